//! Queries, on reader connections: they never block the writer (WAL).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};
use stocksync_core::Timestamp;
use stocksync_core::push::{PushOverrides, PushRules, buildable, pushed_quantity};

use crate::error::Result;
use crate::lines::{NameCache, NameLookup};
use crate::views::{ComponentView, Counts, FcView, InventoryView, ItemView, ListingQuantity, OrderStats, OrderView};

pub fn fcs(conn: &Connection) -> Result<Vec<FcView>> {
    let mut q =
        conn.prepare_cached("SELECT code, name, priority, active FROM fulfillment_centers ORDER BY priority, code")?;
    let rows =
        q.query_map([], |r| Ok(FcView { code: r.get(0)?, name: r.get(1)?, priority: r.get(2)?, active: r.get(3)? }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn item(conn: &Connection, sku: &str) -> Result<Option<ItemView>> {
    let row: Option<(i64, String, String)> = conn
        .prepare_cached("SELECT id, title, kind FROM items WHERE sku = ?1")?
        .query_row([sku], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((id, title, kind)) = row else { return Ok(None) };
    let components = conn
        .prepare_cached(
            "SELECT i.sku, c.quantity FROM bundle_components c JOIN items i ON i.id = c.component_id
             WHERE c.bundle_id = ?1 ORDER BY c.position",
        )?
        .query_map([id], |r| Ok(ComponentView { sku: r.get(0)?, quantity: r.get(1)? }))?
        .collect::<Result<_, _>>()?;
    let aliases = conn
        .prepare_cached("SELECT alias FROM aliases WHERE item_id = ?1 ORDER BY alias")?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Some(ItemView { sku: sku.to_owned(), title, kind, components, aliases }))
}

/// Per-FC available units of a stock item, keyed by FC id.
fn available_by_fc(conn: &Connection, item: i64) -> Result<HashMap<i64, Counts>> {
    let mut q = conn.prepare_cached("SELECT fc_id, on_hand, committed FROM stock_levels WHERE item_id = ?1")?;
    let rows = q.query_map([item], |r| {
        let (on_hand, committed): (i64, i64) = (r.get(1)?, r.get(2)?);
        Ok((r.get(0)?, Counts { on_hand, committed, available: on_hand - committed }))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every FC as `(id, code, active)`, by priority.
pub(crate) fn all_fcs(conn: &Connection) -> Result<Vec<(i64, String, bool)>> {
    Ok(conn
        .prepare_cached("SELECT id, code, active FROM fulfillment_centers ORDER BY priority, code")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?)
}

/// An item's counts per FC id; for a bundle, buildable units.
pub(crate) fn per_fc_counts(
    conn: &Connection,
    id: i64,
    kind: &str,
    fcs: &[(i64, String, bool)],
) -> Result<HashMap<i64, Counts>> {
    if kind == "stock" {
        return available_by_fc(conn, id);
    }
    let comps: Vec<(i64, u32)> = conn
        .prepare_cached("SELECT component_id, quantity FROM bundle_components WHERE bundle_id = ?1")?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let levels: Vec<(HashMap<i64, Counts>, u32)> =
        comps.iter().map(|&(c, q)| Ok((available_by_fc(conn, c)?, q))).collect::<Result<_>>()?;
    Ok(fcs
        .iter()
        .map(|(fc, _, _)| {
            let n = buildable(levels.iter().map(|(l, q)| (l.get(fc).map_or(0, |c| c.available), *q)));
            (*fc, Counts { on_hand: n, committed: 0, available: n })
        })
        .collect())
}

/// One item's stock per FC, and what each of its listings should show.
pub fn inventory(conn: &Connection, sku: &str) -> Result<Option<InventoryView>> {
    let row: Option<(i64, String)> = conn
        .prepare_cached("SELECT id, kind FROM items WHERE sku = ?1")?
        .query_row([sku], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((id, kind)) = row else { return Ok(None) };
    let fcs = all_fcs(conn)?;
    let per_fc = per_fc_counts(conn, id, &kind, &fcs)?;
    let levels: Vec<(String, Counts)> =
        fcs.iter().map(|(fc, code, _)| (code.clone(), per_fc.get(fc).copied().unwrap_or_default())).collect();
    let totals = levels.iter().fold(Counts::default(), |t, (_, c)| Counts {
        on_hand: t.on_hand + c.on_hand,
        committed: t.committed + c.committed,
        available: t.available + c.available,
    });
    let listings = listing_quantities(conn, id, &fcs, &per_fc)?;
    Ok(Some(InventoryView { sku: sku.to_owned(), kind, totals, levels, listings }))
}

pub(crate) fn listing_quantities(
    conn: &Connection,
    item: i64,
    fcs: &[(i64, String, bool)],
    per_fc: &HashMap<i64, Counts>,
) -> Result<Vec<ListingQuantity>> {
    type Row =
        (i64, i64, String, Option<u32>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, bool, i64, Option<String>);
    let rows: Vec<Row> = conn
        .prepare_cached(
            "SELECT l.id, l.channel_id, l.channel_sku, l.percent, l.min_threshold, l.max_visible,
                    l.last_pushed_quantity, l.last_pushed_at,
                    EXISTS (SELECT 1 FROM push_queue q WHERE ',' || q.items || ',' LIKE '%,' || l.item_id || ',%')
                        OR COALESCE(p.desired_version > p.acked_version, 0),
                    COALESCE(p.attempts, 0), p.last_error
             FROM listings l LEFT JOIN push_state p ON p.listing_id = l.id
             WHERE l.item_id = ?1 ORDER BY l.channel_id, l.channel_sku",
        )?
        .query_map([item], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (_, channel, channel_sku, percent, min_threshold, max_visible, last, last_at, pending, attempts, error) in rows
    {
        let quantity =
            listing_quantity(conn, channel, PushOverrides { percent, min_threshold, max_visible }, fcs, per_fc)?;
        let state = if pending && attempts > 0 && error.is_some() {
            "failed"
        } else if pending || last != Some(quantity) {
            "pending"
        } else {
            "in_sync"
        };
        out.push(ListingQuantity {
            channel,
            channel_sku,
            quantity,
            last_pushed_quantity: last,
            last_pushed_at: last_at.map(Timestamp),
            state,
        });
    }
    Ok(out)
}

/// What one listing on `channel` should show, given its item's per-FC counts
/// (PRODUCT.md §4): the channel's active FCs, its buffers, the overrides.
pub(crate) fn listing_quantity(
    conn: &Connection,
    channel: i64,
    overrides: PushOverrides,
    fcs: &[(i64, String, bool)],
    per_fc: &HashMap<i64, Counts>,
) -> Result<i64> {
    let (rules, allowed) = channel_push_rules(conn, channel)?;
    let rules = rules.with(overrides);
    let sellable = fcs.iter().filter(|(fc, _, active)| *active && allowed.as_ref().is_none_or(|a| a.contains(fc)));
    Ok(pushed_quantity(sellable.map(|(fc, _, _)| per_fc.get(fc).map_or(0, |c| c.available)), rules))
}

/// A channel's push rules and its FC set (`None`: all FCs).
pub(crate) fn channel_push_rules(conn: &Connection, channel: i64) -> Result<(PushRules, Option<Vec<i64>>)> {
    let (percent, min_threshold, max_visible, all_fcs): (u32, i64, Option<i64>, bool) = conn
        .prepare_cached("SELECT percent, min_threshold, max_visible, all_fcs FROM channels WHERE id = ?1")?
        .query_row([channel], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    let allowed = if all_fcs {
        None
    } else {
        Some(
            conn.prepare_cached("SELECT fc_id FROM channel_fcs WHERE channel_id = ?1")?
                .query_map([channel], |r| r.get(0))?
                .collect::<Result<_, _>>()?,
        )
    };
    Ok((PushRules { percent, min_threshold, max_visible }, allowed))
}

pub fn order(conn: &Connection, id: i64) -> Result<Option<OrderView>> {
    type Header = (i64, String, String, i64, i64, i64, String, String);
    let header: Option<Header> = conn
        .prepare_cached(
            "SELECT channel_id, external_id, status, placed_at, imported_at, updated_at, lines, trace
             FROM orders WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
        })
        .optional()?;
    let Some((channel, external_id, status, placed, imported, updated, text, trace)) = header else { return Ok(None) };
    let (lines, fcs) = crate::lines::views(id, &text, &mut Names { conn, cache: NameCache::default() })?;
    Ok(Some(OrderView {
        id,
        channel,
        external_id,
        status,
        placed_at: Timestamp(placed),
        imported_at: Timestamp(imported),
        updated_at: Timestamp(updated),
        fulfillment_centers: fcs,
        lines,
        trace: if trace.is_empty() { Vec::new() } else { trace.split('\n').map(str::to_owned).collect() },
    }))
}

/// Display names from this connection, each looked up once per read.
struct Names<'a> {
    conn: &'a Connection,
    cache: NameCache,
}

impl NameLookup for Names<'_> {
    fn sku(&mut self, item: i64) -> Result<String> {
        let conn = self.conn;
        self.cache.sku(item, |item| {
            Ok(conn.prepare_cached("SELECT sku FROM items WHERE id = ?1")?.query_row([item], |r| r.get(0))?)
        })
    }

    fn fc(&mut self, fc: i64) -> Result<(i64, String)> {
        let conn = self.conn;
        self.cache.fc(fc, |fc| {
            Ok(conn
                .prepare_cached("SELECT priority, code FROM fulfillment_centers WHERE id = ?1")?
                .query_row([fc], |r| Ok((r.get(0)?, r.get(1)?)))?)
        })
    }
}

/// True when there are no fulfillment centers, items, channels or orders:
/// the tables every other row depends on, so none of them can hold data
/// without one of these holding some too.
pub fn is_empty(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM fulfillment_centers)
            AND NOT EXISTS (SELECT 1 FROM items)
            AND NOT EXISTS (SELECT 1 FROM channels)
            AND NOT EXISTS (SELECT 1 FROM orders)",
        [],
        |r| r.get(0),
    )?)
}

pub fn stats(conn: &Connection) -> Result<OrderStats> {
    let (orders, units, backordered): (i64, i64, i64) = conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status != 'cancelled' THEN units END), 0),
                COALESCE(SUM(CASE WHEN status != 'cancelled' THEN backordered END), 0) FROM orders",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let lines: i64 = conn.query_row(
        "SELECT COALESCE(SUM((SELECT COUNT(*) FROM json_each(o.lines) j WHERE NOT COALESCE(j.value ->> 'rm', 0))), 0)
         FROM orders o",
        [],
        |r| r.get(0),
    )?;
    let oversold: i64 =
        conn.query_row("SELECT COALESCE(SUM(MAX(committed - on_hand, 0)), 0) FROM stock_levels", [], |r| r.get(0))?;
    Ok(OrderStats {
        orders,
        lines,
        allocated_units: units - backordered,
        backordered_units: backordered,
        oversold_units: oversold,
    })
}
