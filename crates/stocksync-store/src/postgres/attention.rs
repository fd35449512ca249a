//! The web UI's dashboard and activity queries on PostgreSQL (the same
//! answers as `crate::sqlite::attention`).

use stocksync_core::Timestamp;
use stocksync_core::books::reason;

use super::Conn;
use crate::error::Result;
use crate::views::{FailedPushView, PushedView};

/// Most recent ledger rows searched for a non-order quantity change (see
/// the SQLite backend: the ledger has no index by reason).
const SOURCE_SCAN_ROWS: i64 = 200_000;

/// Orders per status.
pub fn order_counts(conn: &mut Conn) -> Result<Vec<(String, i64)>> {
    let rows = conn.query("SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY status COLLATE \"C\"", &[])?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Listings whose latest value the channel has not accepted and whose last attempt failed.
pub fn failed_pushes(conn: &mut Conn, limit: usize) -> Result<Vec<FailedPushView>> {
    let rows = conn.query(
        "SELECT l.channel_id, l.channel_sku, p.desired_quantity, p.attempts, p.last_error, p.next_attempt_at
         FROM push_state p JOIN listings l ON l.id = p.listing_id
         WHERE p.desired_version > p.acked_version AND p.last_error IS NOT NULL
         ORDER BY p.attempts DESC, l.channel_id, l.channel_sku LIMIT $1",
        &[&(limit as i64)],
    )?;
    Ok(rows
        .iter()
        .map(|r| FailedPushView {
            channel: r.get(0),
            channel_sku: r.get(1),
            quantity: r.get(2),
            attempts: r.get(3),
            error: r.get(4),
            next_attempt_at: Timestamp(r.get(5)),
        })
        .collect())
}

/// The newest acknowledged pushes, from each listing's last accepted value.
pub fn recent_pushed(conn: &mut Conn, limit: usize) -> Result<Vec<PushedView>> {
    let rows = conn.query(
        "SELECT channel_id, channel_sku, last_pushed_quantity, last_pushed_at FROM listings
         WHERE last_pushed_at IS NOT NULL ORDER BY last_pushed_at DESC, id DESC LIMIT $1",
        &[&(limit as i64)],
    )?;
    Ok(rows
        .iter()
        .map(|r| PushedView { channel: r.get(0), channel_sku: r.get(1), quantity: r.get(2), at: Timestamp(r.get(3)) })
        .collect())
}

/// When each channel last had a push accepted, by channel id.
pub fn last_pushes(conn: &mut Conn) -> Result<Vec<(i64, Timestamp)>> {
    let rows = conn.query(
        "SELECT channel_id, MAX(last_pushed_at) FROM listings WHERE last_pushed_at IS NOT NULL
         GROUP BY channel_id ORDER BY channel_id",
        &[],
    )?;
    Ok(rows.iter().map(|r| (r.get(0), Timestamp(r.get(1)))).collect())
}

/// When stock last changed other than through an order, among the newest ledger rows.
pub fn last_quantity_source(conn: &mut Conn) -> Result<Option<Timestamp>> {
    let at: Option<i64> = conn
        .query_one(
            "SELECT MAX(at) FROM movements
             WHERE id > (SELECT COALESCE(MAX(id), 0) FROM movements) - $1
               AND reason NOT IN ($2, $3, $4, $5)",
            &[&SOURCE_SCAN_ROWS, &reason::ALLOCATED, &reason::RELEASED, &reason::SHIPPED, &reason::CORRECTION],
        )?
        .get(0);
    Ok(at.map(Timestamp))
}
