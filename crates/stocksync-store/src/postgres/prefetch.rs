//! Finding a batch's orders in one query. Every order import starts with
//! `find_order` by `(channel, external_id)`; one query per import would be
//! the last round trip per order on the ingest path. So import jobs carry
//! their order's key, and before running a batch the writer looks all of
//! them up at once: found rows and misses alike are kept in
//! `WriterState::known` for this batch. A saved order leaves `known` (its
//! pending copy, then its row, is what counts from then on).

use stocksync_core::ChannelId;

use super::Conn;
use super::books::order_row;
use super::writer::WriterState;
use crate::error::Result;

/// Looks up the orders named by `keys`; fills `st.known`.
pub(crate) fn orders<'a>(
    conn: &mut Conn,
    st: &mut WriterState,
    keys: impl Iterator<Item = &'a (ChannelId, String)>,
) -> Result<()> {
    st.known.clear();
    let (mut channels, mut externals) = (Vec::new(), Vec::new());
    for (channel, external) in keys {
        if st.known.insert((*channel, external.clone()), None).is_none() {
            channels.push(channel.0);
            externals.push(external.as_str());
        }
    }
    if channels.is_empty() {
        return Ok(());
    }
    let rows = conn.query(
        "SELECT o.id, o.channel_id, o.external_id, o.status, o.source_status, o.placed_at, o.source_updated_at,
                o.imported_at, o.updated_at, o.lines
         FROM unnest($1::bigint[], $2::text[]) AS k (channel_id, external_id)
         JOIN orders o ON o.channel_id = k.channel_id AND o.external_id = k.external_id",
        &[&channels, &externals],
    )?;
    for r in rows {
        let row = order_row(&r);
        st.known.insert((ChannelId(row.channel), row.external_id.clone()), Some(row));
    }
    Ok(())
}
