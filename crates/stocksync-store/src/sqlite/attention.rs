//! What the web UI's dashboard and activity pages show: orders by status,
//! listings whose push keeps failing, when each channel last received a
//! push, and when stock last changed from a source other than orders.

use rusqlite::{Connection, params};
use stocksync_core::Timestamp;
use stocksync_core::books::reason;

use crate::error::Result;
use crate::views::{FailedPushView, PushedView};

/// Most recent ledger rows searched for a non-order quantity change. The
/// ledger has no index by reason (it would tax every order's movements),
/// so the search is bounded: a rowid range scan of this many rows takes a
/// few milliseconds, and a seller who changed stock by hand longer ago than
/// that many movements is, for the dashboard's purpose, not doing so lately.
const SOURCE_SCAN_ROWS: i64 = 200_000;

/// Orders per status.
pub fn order_counts(conn: &Connection) -> Result<Vec<(String, i64)>> {
    Ok(conn
        .prepare_cached("SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?)
}

/// Listings whose latest value the channel has not accepted and whose last attempt failed.
pub fn failed_pushes(conn: &Connection, limit: usize) -> Result<Vec<FailedPushView>> {
    Ok(conn
        .prepare_cached(
            "SELECT l.channel_id, l.channel_sku, p.desired_quantity, p.attempts, p.last_error, p.next_attempt_at
             FROM push_state p JOIN listings l ON l.id = p.listing_id
             WHERE p.desired_version > p.acked_version AND p.last_error IS NOT NULL
             ORDER BY p.attempts DESC, l.channel_id, l.channel_sku LIMIT ?1",
        )?
        .query_map([limit as i64], |r| {
            Ok(FailedPushView {
                channel: r.get(0)?,
                channel_sku: r.get(1)?,
                quantity: r.get(2)?,
                attempts: r.get(3)?,
                error: r.get(4)?,
                next_attempt_at: Timestamp(r.get(5)?),
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// The newest acknowledged pushes, from each listing's last accepted value.
pub fn recent_pushed(conn: &Connection, limit: usize) -> Result<Vec<PushedView>> {
    Ok(conn
        .prepare_cached(
            "SELECT channel_id, channel_sku, last_pushed_quantity, last_pushed_at FROM listings
             WHERE last_pushed_at IS NOT NULL ORDER BY last_pushed_at DESC, id DESC LIMIT ?1",
        )?
        .query_map([limit as i64], |r| {
            Ok(PushedView { channel: r.get(0)?, channel_sku: r.get(1)?, quantity: r.get(2)?, at: Timestamp(r.get(3)?) })
        })?
        .collect::<Result<_, _>>()?)
}

/// When each channel last had a push accepted, by channel id.
pub fn last_pushes(conn: &Connection) -> Result<Vec<(i64, Timestamp)>> {
    Ok(conn
        .prepare_cached(
            "SELECT channel_id, MAX(last_pushed_at) FROM listings WHERE last_pushed_at IS NOT NULL
             GROUP BY channel_id ORDER BY channel_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, Timestamp(r.get(1)?))))?
        .collect::<Result<_, _>>()?)
}

/// When stock last changed other than through an order (a manual edit, an
/// upload, the API, a quantity import), among the newest ledger rows.
pub fn last_quantity_source(conn: &Connection) -> Result<Option<Timestamp>> {
    let at: Option<i64> = conn
        .prepare_cached(
            "SELECT MAX(at) FROM movements
             WHERE id > (SELECT COALESCE(MAX(id), 0) FROM movements) - ?1
               AND reason NOT IN (?2, ?3, ?4, ?5)",
        )?
        .query_row(
            params![SOURCE_SCAN_ROWS, reason::ALLOCATED, reason::RELEASED, reason::SHIPPED, reason::CORRECTION],
            |r| r.get(0),
        )?;
    Ok(at.map(Timestamp))
}
