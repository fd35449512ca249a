//! Queries on PostgreSQL reader connections (the same answers as
//! `crate::sqlite::read`). Each runs in its own implicit transaction.

use std::collections::HashMap;

use stocksync_core::Timestamp;
use stocksync_core::push::{PushOverrides, PushRules, buildable, pushed_quantity};

use super::Conn;
use crate::error::Result;
use crate::lines::{NameCache, NameLookup};
use crate::views::{ComponentView, Counts, FcView, InventoryView, ItemView, ListingQuantity, OrderStats, OrderView};

pub(crate) fn fc_view(r: &postgres::Row) -> FcView {
    FcView { code: r.get(0), name: r.get(1), priority: r.get(2), active: r.get(3) }
}

pub fn fcs(conn: &mut Conn) -> Result<Vec<FcView>> {
    let rows =
        conn.query("SELECT code, name, priority, active FROM fulfillment_centers ORDER BY priority, code", &[])?;
    Ok(rows.iter().map(fc_view).collect())
}

pub fn item(conn: &mut Conn, sku: &str) -> Result<Option<ItemView>> {
    let Some(row) = conn.query_opt("SELECT id, title, kind FROM items WHERE sku = $1", &[&sku])? else {
        return Ok(None);
    };
    let (id, title, kind): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
    let components = conn
        .query(
            "SELECT i.sku, c.quantity FROM bundle_components c JOIN items i ON i.id = c.component_id
             WHERE c.bundle_id = $1 ORDER BY c.position",
            &[&id],
        )?
        .iter()
        .map(|r| ComponentView { sku: r.get(0), quantity: r.get::<_, i64>(1) as u32 })
        .collect();
    let aliases = conn
        .query("SELECT alias FROM aliases WHERE item_id = $1 ORDER BY alias", &[&id])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(Some(ItemView { sku: sku.to_owned(), title, kind, components, aliases }))
}

/// Per-FC counts of a stock item, keyed by FC id.
fn available_by_fc(conn: &mut Conn, item: i64) -> Result<HashMap<i64, Counts>> {
    let rows = conn.query("SELECT fc_id, on_hand, committed FROM stock_levels WHERE item_id = $1", &[&item])?;
    Ok(rows
        .iter()
        .map(|r| {
            let (on_hand, committed): (i64, i64) = (r.get(1), r.get(2));
            (r.get(0), Counts { on_hand, committed, available: on_hand - committed })
        })
        .collect())
}

/// Every FC as `(id, code, active)`, by priority.
pub(crate) fn all_fcs(conn: &mut Conn) -> Result<Vec<(i64, String, bool)>> {
    let rows = conn.query("SELECT id, code, active FROM fulfillment_centers ORDER BY priority, code", &[])?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

/// An item's counts per FC id; for a bundle, buildable units.
pub(crate) fn per_fc_counts(
    conn: &mut Conn,
    id: i64,
    kind: &str,
    fcs: &[(i64, String, bool)],
) -> Result<HashMap<i64, Counts>> {
    if kind == "stock" {
        return available_by_fc(conn, id);
    }
    let comps: Vec<(i64, u32)> = conn
        .query("SELECT component_id, quantity FROM bundle_components WHERE bundle_id = $1", &[&id])?
        .iter()
        .map(|r| (r.get(0), r.get::<_, i64>(1) as u32))
        .collect();
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
pub fn inventory(conn: &mut Conn, sku: &str) -> Result<Option<InventoryView>> {
    let Some(row) = conn.query_opt("SELECT id, kind FROM items WHERE sku = $1", &[&sku])? else { return Ok(None) };
    let (id, kind): (i64, String) = (row.get(0), row.get(1));
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
    conn: &mut Conn,
    item: i64,
    fcs: &[(i64, String, bool)],
    per_fc: &HashMap<i64, Counts>,
) -> Result<Vec<ListingQuantity>> {
    let rows = conn.query(
        "SELECT l.id, l.channel_id, l.channel_sku, l.percent, l.min_threshold, l.max_visible,
                l.last_pushed_quantity, l.last_pushed_at,
                EXISTS (SELECT 1 FROM push_queue q WHERE ',' || q.items || ',' LIKE '%,' || l.item_id::text || ',%')
                    OR COALESCE(p.desired_version > p.acked_version, FALSE),
                COALESCE(p.attempts, 0), p.last_error
         FROM listings l LEFT JOIN push_state p ON p.listing_id = l.id
         WHERE l.item_id = $1 ORDER BY l.channel_id, l.channel_sku",
        &[&item],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let channel: i64 = r.get(1);
        let overrides = overrides(&r, 3);
        let (last, last_at): (Option<i64>, Option<i64>) = (r.get(6), r.get(7));
        let (pending, attempts, error): (bool, i64, Option<String>) = (r.get(8), r.get(9), r.get(10));
        let quantity = listing_quantity(conn, channel, overrides, fcs, per_fc)?;
        let state = if pending && attempts > 0 && error.is_some() {
            "failed"
        } else if pending || last != Some(quantity) {
            "pending"
        } else {
            "in_sync"
        };
        out.push(ListingQuantity {
            channel,
            channel_sku: r.get(2),
            quantity,
            last_pushed_quantity: last,
            last_pushed_at: last_at.map(Timestamp),
            state,
        });
    }
    Ok(out)
}

/// A listing's overrides from columns `first..first + 3` (percent, min_threshold, max_visible).
pub(crate) fn overrides(r: &postgres::Row, first: usize) -> PushOverrides {
    PushOverrides {
        percent: r.get::<_, Option<i64>>(first).map(|p| p as u32),
        min_threshold: r.get(first + 1),
        max_visible: r.get(first + 2),
    }
}

/// What one listing on `channel` should show, given its item's per-FC counts.
pub(crate) fn listing_quantity(
    conn: &mut Conn,
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
pub(crate) fn channel_push_rules(conn: &mut Conn, channel: i64) -> Result<(PushRules, Option<Vec<i64>>)> {
    let r =
        conn.query_one("SELECT percent, min_threshold, max_visible, all_fcs FROM channels WHERE id = $1", &[&channel])?;
    let rules = PushRules { percent: r.get::<_, i64>(0) as u32, min_threshold: r.get(1), max_visible: r.get(2) };
    let allowed = if r.get(3) {
        None
    } else {
        Some(
            conn.query("SELECT fc_id FROM channel_fcs WHERE channel_id = $1", &[&channel])?
                .iter()
                .map(|r| r.get(0))
                .collect(),
        )
    };
    Ok((rules, allowed))
}

pub fn order(conn: &mut Conn, id: i64) -> Result<Option<OrderView>> {
    let Some(r) = conn.query_opt(
        "SELECT channel_id, external_id, status, placed_at, imported_at, updated_at, lines, trace FROM orders WHERE id = $1",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let (text, trace): (String, String) = (r.get(6), r.get(7));
    let (lines, fcs) = crate::lines::views(id, &text, &mut Names { conn, cache: NameCache::default() })?;
    Ok(Some(OrderView {
        id,
        channel: r.get(0),
        external_id: r.get(1),
        status: r.get(2),
        placed_at: Timestamp(r.get(3)),
        imported_at: Timestamp(r.get(4)),
        updated_at: Timestamp(r.get(5)),
        fulfillment_centers: fcs,
        lines,
        trace: if trace.is_empty() { Vec::new() } else { trace.split('\n').map(str::to_owned).collect() },
    }))
}

/// Display names from this connection, each looked up once per read.
struct Names<'a> {
    conn: &'a mut Conn,
    cache: NameCache,
}

impl NameLookup for Names<'_> {
    fn sku(&mut self, item: i64) -> Result<String> {
        let conn = &mut *self.conn;
        self.cache.sku(item, |item| Ok(conn.query_one("SELECT sku FROM items WHERE id = $1", &[&item])?.get(0)))
    }

    fn fc(&mut self, fc: i64) -> Result<(i64, String)> {
        let conn = &mut *self.conn;
        self.cache.fc(fc, |fc| {
            let r = conn.query_one("SELECT priority, code FROM fulfillment_centers WHERE id = $1", &[&fc])?;
            Ok((r.get(0), r.get(1)))
        })
    }
}

/// True when there are no fulfillment centers, items, channels or orders.
pub fn is_empty(conn: &mut Conn) -> Result<bool> {
    Ok(conn
        .query_one(
            "SELECT NOT EXISTS (SELECT 1 FROM fulfillment_centers)
                AND NOT EXISTS (SELECT 1 FROM items)
                AND NOT EXISTS (SELECT 1 FROM channels)
                AND NOT EXISTS (SELECT 1 FROM orders)",
            &[],
        )?
        .get(0))
}

pub fn stats(conn: &mut Conn) -> Result<OrderStats> {
    let r = conn.query_one(
        "SELECT COUNT(*), COALESCE(SUM(units) FILTER (WHERE status != 'cancelled'), 0)::bigint,
                COALESCE(SUM(backordered) FILTER (WHERE status != 'cancelled'), 0)::bigint,
                COALESCE(SUM((SELECT COUNT(*) FROM jsonb_array_elements(o.lines::jsonb) j
                              WHERE NOT COALESCE((j ->> 'rm')::boolean, FALSE))), 0)::bigint
         FROM orders o",
        &[],
    )?;
    let (orders, units, backordered, lines): (i64, i64, i64, i64) = (r.get(0), r.get(1), r.get(2), r.get(3));
    let oversold: i64 = conn
        .query_one("SELECT COALESCE(SUM(GREATEST(committed - on_hand, 0)), 0)::bigint FROM stock_levels", &[])?
        .get(0);
    Ok(OrderStats {
        orders,
        lines,
        allocated_units: units - backordered,
        backordered_units: backordered,
        oversold_units: oversold,
    })
}
