//! Writes the PostgreSQL writer has made but not yet sent: stock levels,
//! ledger rows, orders and their side indexes. `flush` sends them with a
//! handful of set-based statements (arrays bound once, `unnest`ed by the
//! server), so a batch of thousands of orders costs a few round trips
//! instead of several per order.
//!
//! The writer flushes before each savepoint (a failed job then discards only
//! its own buffer), before any query that reads these tables, and before
//! COMMIT. Orders waiting here are found by `find_order`/`load_order` first.
//!
//! Stock levels are written as a compare-and-set against the values the
//! writer read (`CachedLevel::stored`), in (item, FC) order: under the
//! writer lock it always matches; if anything else changed a level
//! meanwhile, the batch fails instead of losing that update.

use std::collections::{BTreeSet, HashMap};

use stocksync_core::books::Level;
use stocksync_core::order::Order;
use stocksync_core::{ChannelId, FcId, ItemId, OrderId};

use super::Conn;
use super::writer::WriterState;
use crate::error::{Result, StoreError};
use crate::lines;

/// A stock level as the writer knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachedLevel {
    /// The level now, in this transaction.
    pub level: Level,
    /// The row in the database (`None`: no row yet).
    pub stored: Option<Level>,
}

/// One ledger row waiting to be inserted.
#[derive(Debug, Clone)]
pub struct PendingMovement {
    pub id: i64,
    pub at: i64,
    pub item: i64,
    pub fc: i64,
    pub on_hand_delta: i64,
    pub committed_delta: i64,
    pub after: Level,
    pub reason: String,
    pub reference: String,
    pub actor: String,
}

/// An order saved since the last flush.
#[derive(Debug, Clone)]
pub struct PendingOrder {
    /// The order as last saved.
    pub order: Order,
    /// Its row exists in the database (update rather than insert).
    pub in_db: bool,
    /// Trace entries to append, newline-separated.
    pub trace: String,
    /// Its backorder and unmapped-line index rows must be rewritten.
    pub side_dirty: bool,
}

#[derive(Debug, Default)]
pub struct Pending {
    pub movements: Vec<PendingMovement>,
    /// Levels changed since the last flush, in the order they are written.
    pub levels: BTreeSet<(ItemId, FcId)>,
    pub orders: HashMap<OrderId, PendingOrder>,
    /// `(channel, external_id)` of every pending order.
    pub keys: HashMap<(ChannelId, String), OrderId>,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.movements.is_empty() && self.levels.is_empty() && self.orders.is_empty()
    }

    /// The pending copy of an order, by id or by channel key.
    pub fn order(&self, id: Option<OrderId>, key: Option<(ChannelId, &str)>) -> Option<Order> {
        let id = match (id, key) {
            (Some(id), _) => id,
            (None, Some((channel, external))) => *self.keys.get(&(channel, external.to_owned()))?,
            (None, None) => return None,
        };
        self.orders.get(&id).map(|p| p.order.clone())
    }

    /// Records a saved order. `is_new`: it had no row when the workflow built it.
    pub fn save(&mut self, o: &Order, is_new: bool, trace: String, side_dirty: bool) {
        match self.orders.get_mut(&o.id) {
            Some(p) => {
                p.order = o.clone();
                if !trace.is_empty() {
                    if !p.trace.is_empty() {
                        p.trace.push('\n');
                    }
                    p.trace.push_str(&trace);
                }
                p.side_dirty |= side_dirty;
            }
            None => {
                self.keys.insert((o.channel, o.external_id.clone()), o.id);
                self.orders.insert(o.id, PendingOrder { order: o.clone(), in_db: !is_new, trace, side_dirty });
            }
        }
    }
}

/// Sends every pending write.
pub fn flush(conn: &mut Conn, st: &mut WriterState) -> Result<()> {
    if st.pending.is_empty() {
        return Ok(());
    }
    let pending = std::mem::take(&mut st.pending);
    insert_movements(conn, &pending.movements)?;
    write_levels(conn, st, &pending.levels)?;
    write_orders(conn, pending.orders.into_values().collect())
}

fn insert_movements(conn: &mut Conn, ms: &[PendingMovement]) -> Result<()> {
    if ms.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&PendingMovement) -> i64| ms.iter().map(f).collect::<Vec<i64>>();
    let text = |f: fn(&PendingMovement) -> &str| ms.iter().map(f).collect::<Vec<&str>>();
    conn.execute(
        "INSERT INTO movements (id, at, item_id, fc_id, on_hand_delta, committed_delta, on_hand_after,
                                committed_after, reason, reference, actor)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
                              $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[])",
        &[
            &col(|m| m.id),
            &col(|m| m.at),
            &col(|m| m.item),
            &col(|m| m.fc),
            &col(|m| m.on_hand_delta),
            &col(|m| m.committed_delta),
            &col(|m| m.after.on_hand),
            &col(|m| m.after.committed),
            &text(|m| &m.reason),
            &text(|m| &m.reference),
            &text(|m| &m.actor),
        ],
    )?;
    Ok(())
}

fn write_levels(conn: &mut Conn, st: &mut WriterState, keys: &BTreeSet<(ItemId, FcId)>) -> Result<()> {
    // (item, fc, old on_hand, old committed, on_hand, committed); old is absent for new rows.
    let (mut changed, mut added): (Vec<[i64; 6]>, Vec<[i64; 4]>) = (Vec::new(), Vec::new());
    for key in keys {
        let cached = st
            .levels
            .get_mut(key)
            .ok_or_else(|| StoreError::Internal(format!("level {key:?} changed but is not cached")))?;
        let (now, stored) = (cached.level, cached.stored);
        match stored {
            Some(old) => changed.push([key.0.0, key.1.0, old.on_hand, old.committed, now.on_hand, now.committed]),
            None => added.push([key.0.0, key.1.0, now.on_hand, now.committed]),
        }
        cached.stored = Some(now);
    }
    if !changed.is_empty() {
        let col = |i: usize| changed.iter().map(|r| r[i]).collect::<Vec<i64>>();
        let n = conn.execute(
            "UPDATE stock_levels s SET on_hand = v.on_hand, committed = v.committed
             FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
                  AS v (item_id, fc_id, old_on_hand, old_committed, on_hand, committed)
             WHERE s.item_id = v.item_id AND s.fc_id = v.fc_id
               AND s.on_hand = v.old_on_hand AND s.committed = v.old_committed",
            &[&col(0), &col(1), &col(2), &col(3), &col(4), &col(5)],
        )?;
        if n != changed.len() as u64 {
            return Err(changed_underneath(changed.len() as u64 - n));
        }
    }
    if !added.is_empty() {
        let col = |i: usize| added.iter().map(|r| r[i]).collect::<Vec<i64>>();
        let n = conn.execute(
            "INSERT INTO stock_levels (item_id, fc_id, on_hand, committed)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])
             ON CONFLICT (item_id, fc_id) DO NOTHING",
            &[&col(0), &col(1), &col(2), &col(3)],
        )?;
        if n != added.len() as u64 {
            return Err(changed_underneath(added.len() as u64 - n));
        }
    }
    Ok(())
}

fn changed_underneath(n: u64) -> StoreError {
    StoreError::Internal(format!(
        "{n} stock level(s) changed in the database since this writer read them (a write outside stocksync's \
         writer?); the batch is rolled back rather than overwrite them"
    ))
}

/// One order's columns as flushed.
struct Row {
    id: i64,
    lines: String,
    units: i64,
    backordered: i64,
}

fn write_orders(conn: &mut Conn, orders: Vec<PendingOrder>) -> Result<()> {
    if orders.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(orders.len());
    for p in &orders {
        let (units, backordered) = lines::totals(&p.order);
        rows.push(Row { id: p.order.id.0, lines: lines::encode(&lines::stored(&p.order))?, units, backordered });
    }
    let (new, old): (Vec<_>, Vec<_>) = orders.iter().zip(&rows).partition(|(p, _)| !p.in_db);
    if !new.is_empty() {
        let o = |f: fn(&Order) -> i64| new.iter().map(|(p, _)| f(&p.order)).collect::<Vec<i64>>();
        conn.execute(
            "INSERT INTO orders (id, channel_id, external_id, status, source_status, placed_at, source_updated_at,
                                 imported_at, updated_at, lines, units, backordered, trace)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[],
                                  $7::bigint[], $8::bigint[], $9::bigint[], $10::text[], $11::bigint[],
                                  $12::bigint[], $13::text[])",
            &[
                &o(|o| o.id.0),
                &o(|o| o.channel.0),
                &new.iter().map(|(p, _)| p.order.external_id.as_str()).collect::<Vec<_>>(),
                &new.iter().map(|(p, _)| p.order.status.as_str()).collect::<Vec<_>>(),
                &new.iter().map(|(p, _)| p.order.source_status.as_str()).collect::<Vec<_>>(),
                &o(|o| o.placed_at.0),
                &new.iter().map(|(p, _)| p.order.source_updated_at.map(|t| t.0)).collect::<Vec<_>>(),
                &o(|o| o.imported_at.0),
                &o(|o| o.updated_at.0),
                &new.iter().map(|(_, r)| r.lines.as_str()).collect::<Vec<_>>(),
                &new.iter().map(|(_, r)| r.units).collect::<Vec<_>>(),
                &new.iter().map(|(_, r)| r.backordered).collect::<Vec<_>>(),
                &new.iter().map(|(p, _)| p.trace.as_str()).collect::<Vec<_>>(),
            ],
        )?;
    }
    if !old.is_empty() {
        conn.execute(
            "UPDATE orders o SET status = v.status, source_status = v.source_status,
                    source_updated_at = v.source_updated_at, updated_at = v.updated_at, lines = v.lines,
                    units = v.units, backordered = v.backordered,
                    trace = CASE WHEN v.trace = '' THEN o.trace WHEN o.trace = '' THEN v.trace
                                 ELSE o.trace || chr(10) || v.trace END
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[],
                         $7::bigint[], $8::bigint[], $9::text[])
                  AS v (id, status, source_status, source_updated_at, updated_at, lines, units, backordered, trace)
             WHERE o.id = v.id",
            &[
                &old.iter().map(|(_, r)| r.id).collect::<Vec<_>>(),
                &old.iter().map(|(p, _)| p.order.status.as_str()).collect::<Vec<_>>(),
                &old.iter().map(|(p, _)| p.order.source_status.as_str()).collect::<Vec<_>>(),
                &old.iter().map(|(p, _)| p.order.source_updated_at.map(|t| t.0)).collect::<Vec<_>>(),
                &old.iter().map(|(p, _)| p.order.updated_at.0).collect::<Vec<_>>(),
                &old.iter().map(|(_, r)| r.lines.as_str()).collect::<Vec<_>>(),
                &old.iter().map(|(_, r)| r.units).collect::<Vec<_>>(),
                &old.iter().map(|(_, r)| r.backordered).collect::<Vec<_>>(),
                &old.iter().map(|(p, _)| p.trace.as_str()).collect::<Vec<_>>(),
            ],
        )?;
    }
    write_side_indexes(conn, &orders)
}

/// Rewrites the backorder queue and unmapped-line rows of every order whose
/// lines changed: the rows follow from the order's final state.
fn write_side_indexes(conn: &mut Conn, orders: &[PendingOrder]) -> Result<()> {
    let stale: Vec<i64> = orders.iter().filter(|p| p.side_dirty && p.in_db).map(|p| p.order.id.0).collect();
    if !stale.is_empty() {
        conn.execute("DELETE FROM backorders WHERE order_id = ANY($1)", &[&stale])?;
        conn.execute("DELETE FROM unmapped_lines WHERE order_id = ANY($1)", &[&stale])?;
    }
    let (mut queued, mut unmapped): (Vec<[i64; 4]>, Vec<(&str, i64)>) = (Vec::new(), Vec::new());
    for p in orders.iter().filter(|p| p.side_dirty && !p.order.status.is_terminal()) {
        let o = &p.order;
        for (pos, line) in o.lines.iter().enumerate().filter(|(_, l)| !l.removed) {
            if !line.is_mapped() {
                unmapped.push((&line.channel_sku, o.id.0));
            } else if line.backordered > 0 {
                queued.extend(line.parts.iter().map(|part| [part.item.0, o.placed_at.0, o.id.0, pos as i64]));
            }
        }
    }
    if !queued.is_empty() {
        let col = |i: usize| queued.iter().map(|r| r[i]).collect::<Vec<i64>>();
        conn.execute(
            "INSERT INTO backorders (item_id, placed_at, order_id, position)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[]) ON CONFLICT DO NOTHING",
            &[&col(0), &col(1), &col(2), &col(3)],
        )?;
    }
    if !unmapped.is_empty() {
        conn.execute(
            "INSERT INTO unmapped_lines (channel_sku, order_id)
             SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING",
            &[&unmapped.iter().map(|u| u.0).collect::<Vec<_>>(), &unmapped.iter().map(|u| u.1).collect::<Vec<_>>()],
        )?;
    }
    Ok(())
}
