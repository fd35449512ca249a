//! List queries behind the API's collections, on reader connections. Each
//! takes its filters and a keyset cursor and returns at most `limit` rows,
//! so a page costs the same however deep it is.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use stocksync_core::Timestamp;
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::push::{PushOverrides, PushRules};
use stocksync_core::values::FcCode;

use super::read;
use crate::error::{Result, StoreError};
use crate::views::{
    ChannelView, Counts, FcView, ItemView, LevelFilter, LevelView, ListingView, MovementFilter, MovementView,
    OrderFilter, OrderView, SyncStatusView,
};

pub fn fc(conn: &Connection, code: &str) -> Result<Option<FcView>> {
    Ok(conn
        .prepare_cached("SELECT code, name, priority, active FROM fulfillment_centers WHERE code = ?1")?
        .query_row([code], |r| Ok(FcView { code: r.get(0)?, name: r.get(1)?, priority: r.get(2)?, active: r.get(3)? }))
        .optional()?)
}

/// Items by SKU; `q` matches a substring of the SKU or title (case-insensitive).
pub fn items(
    conn: &Connection,
    q: Option<&str>,
    kind: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<ItemView>> {
    let pattern = q.map(|q| format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let skus: Vec<String> = conn
        .prepare_cached(
            "SELECT sku FROM items
             WHERE (?1 IS NULL OR sku LIKE ?1 ESCAPE '\\' OR title LIKE ?1 ESCAPE '\\')
               AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR sku > ?3)
             ORDER BY sku LIMIT ?4",
        )?
        .query_map(rusqlite::params![pattern, kind, after, limit as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(skus.len());
    for sku in skus {
        out.extend(read::item(conn, &sku)?);
    }
    Ok(out)
}

/// Stock levels by `(sku, fc)`.
pub fn levels(conn: &Connection, f: &LevelFilter, limit: usize) -> Result<Vec<LevelView>> {
    let prefix_end = f.sku_prefix.as_ref().map(|p| format!("{p}\u{10FFFF}"));
    let (after_sku, after_fc) = f.after.clone().unzip();
    let rows = conn
        .prepare_cached(
            "SELECT i.sku, f.code, l.on_hand, l.committed FROM stock_levels l
             JOIN items i ON i.id = l.item_id JOIN fulfillment_centers f ON f.id = l.fc_id
             WHERE (?1 IS NULL OR f.code = ?1)
               AND (?2 IS NULL OR (i.sku >= ?2 AND i.sku < ?3))
               AND (?4 IS NULL OR l.on_hand - l.committed < ?4)
               AND (?5 IS NULL OR i.sku > ?5 OR (i.sku = ?5 AND f.code > ?6))
             ORDER BY i.sku, f.code LIMIT ?7",
        )?
        .query_map(
            rusqlite::params![f.fc, f.sku_prefix, prefix_end, f.available_below, after_sku, after_fc, limit as i64],
            |r| {
                let (on_hand, committed): (i64, i64) = (r.get(2)?, r.get(3)?);
                Ok(LevelView {
                    sku: r.get(0)?,
                    fc: r.get(1)?,
                    counts: Counts { on_hand, committed, available: on_hand - committed },
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn channels(conn: &Connection) -> Result<Vec<ChannelView>> {
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT id FROM channels ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.extend(channel(conn, id)?);
    }
    Ok(out)
}

pub fn channel(conn: &Connection, id: i64) -> Result<Option<ChannelView>> {
    type Row = (
        String,
        String,
        Option<String>,
        String,
        (bool, bool, bool),
        Option<String>,
        bool,
        bool,
        (u32, i64, Option<i64>, u32),
        (Option<i64>, Option<String>, i64),
    );
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT c.name, c.kind, c.base_url, c.credentials, c.import_orders, c.push_quantities, c.import_quantities,
                    f.code, c.all_fcs, c.allow_split, c.percent, c.min_threshold, c.max_visible, c.poll_interval_s,
                    c.last_import_at, c.last_import_error, c.created_at
             FROM channels c LEFT JOIN fulfillment_centers f ON f.id = c.source_fc_id WHERE c.id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                (r.get(4)?, r.get(5)?, r.get(6)?),
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                (r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?),
                (r.get(14)?, r.get(15)?, r.get(16)?),
            ))
        })
        .optional()?;
    let Some((name, kind, base_url, credentials, flags, source_fc, all_fcs, allow_split, push, times)) = row else {
        return Ok(None);
    };
    let kind = ChannelKind::parse("kind", &kind).map_err(|e| StoreError::Internal(e.to_string()))?;
    let fulfillment_centers = if all_fcs {
        None
    } else {
        let codes: Vec<String> = conn
            .prepare_cached(
                "SELECT f.code FROM channel_fcs c JOIN fulfillment_centers f ON f.id = c.fc_id
                 WHERE c.channel_id = ?1 ORDER BY f.priority, f.code",
            )?
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Some(codes.iter().map(|c| fc_code(c)).collect::<Result<_>>()?)
    };
    let settings = ChannelSettings {
        import_orders: flags.0,
        push_quantities: flags.1,
        import_quantities: flags.2,
        source_fc: source_fc.as_deref().map(fc_code).transpose()?,
        fulfillment_centers,
        allow_split,
        push: PushRules { percent: push.0, min_threshold: push.1, max_visible: push.2 },
        poll_interval_s: push.3,
    };
    Ok(Some(ChannelView {
        id,
        name,
        kind,
        base_url,
        settings,
        has_credentials: credentials != "{}",
        last_import_at: times.0.map(Timestamp),
        last_import_error: times.1,
        created_at: Timestamp(times.2),
    }))
}

fn fc_code(code: &str) -> Result<FcCode> {
    FcCode::parse(code).map_err(|e| StoreError::Internal(format!("stored FC code {code:?}: {e}")))
}

/// A channel's listings by channel SKU, each with the quantity it should show.
pub fn listings(conn: &Connection, channel: i64, after: Option<&str>, limit: usize) -> Result<Vec<ListingView>> {
    listing_rows(conn, channel, after, None, limit)
}

pub fn listing(conn: &Connection, channel: i64, channel_sku: &str) -> Result<Option<ListingView>> {
    Ok(listing_rows(conn, channel, None, Some(channel_sku), 1)?.pop())
}

fn listing_rows(
    conn: &Connection,
    channel: i64,
    after: Option<&str>,
    exact: Option<&str>,
    limit: usize,
) -> Result<Vec<ListingView>> {
    type Row = (
        String,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<String>,
        PushOverrides,
        (Option<i64>, Option<i64>),
    );
    let rows: Vec<Row> = conn
        .prepare_cached(
            "SELECT l.channel_sku, l.item_id, i.sku, i.kind, l.external_id, l.percent, l.min_threshold, l.max_visible,
                    l.last_pushed_quantity, l.last_pushed_at
             FROM listings l LEFT JOIN items i ON i.id = l.item_id
             WHERE l.channel_id = ?1 AND (?2 IS NULL OR l.channel_sku > ?2) AND (?3 IS NULL OR l.channel_sku = ?3)
             ORDER BY l.channel_sku LIMIT ?4",
        )?
        .query_map(rusqlite::params![channel, after, exact, limit as i64], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                PushOverrides { percent: r.get(5)?, min_threshold: r.get(6)?, max_visible: r.get(7)? },
                (r.get(8)?, r.get(9)?),
            ))
        })?
        .collect::<Result<_, _>>()?;
    let fcs = read::all_fcs(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for (channel_sku, item, sku, kind, external_id, overrides, pushed) in rows {
        let quantity = match (item, kind) {
            (Some(item), Some(kind)) => {
                let per_fc = read::per_fc_counts(conn, item, &kind, &fcs)?;
                read::listing_quantities(conn, item, &fcs, &per_fc)?
                    .into_iter()
                    .find(|q| q.channel == channel && q.channel_sku == channel_sku)
            }
            _ => None,
        };
        out.push(ListingView {
            channel,
            sku,
            external_id,
            overrides,
            quantity: quantity.as_ref().map(|q| q.quantity),
            last_pushed_quantity: pushed.0,
            last_pushed_at: pushed.1.map(Timestamp),
            state: quantity.as_ref().map_or("in_sync", |q| q.state),
            channel_sku,
        });
    }
    Ok(out)
}

/// Orders matching `f`, newest first by `(placed_at, id)`.
pub fn orders(conn: &Connection, f: &OrderFilter, limit: usize) -> Result<Vec<OrderView>> {
    let mut sql = String::from("SELECT o.id FROM orders o WHERE 1");
    let mut args: Vec<Value> = Vec::new();
    let mut arg = |sql: &mut String, clause: &str, v: Value| {
        args.push(v);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(c) = f.channel {
        arg(&mut sql, " AND o.channel_id = ?", c.into());
    }
    if let Some(s) = &f.status {
        arg(&mut sql, " AND o.status = ?", s.clone().into());
    }
    if let Some(t) = f.placed_after {
        arg(&mut sql, " AND o.placed_at >= ?", t.0.into());
    }
    if let Some(t) = f.placed_before {
        arg(&mut sql, " AND o.placed_at < ?", t.0.into());
    }
    if let Some(fc) = &f.fc {
        let id: Option<i64> = conn
            .prepare_cached("SELECT id FROM fulfillment_centers WHERE code = ?1")?
            .query_row([fc], |r| r.get(0))
            .optional()?;
        // `instr` first: a cheap necessary condition (an allocation is stored
        // as `[fc,item,qty,shipped]`, so the text holds `[fc,`) that spares
        // most rows the JSON walk. Measured by `bench ui`: a filter by a
        // rarely used FC over 100,000 orders went from ~135 ms to ~40 ms (p50).
        let id = id.unwrap_or(-1);
        arg(&mut sql, " AND instr(o.lines, ?) > 0", format!("[{id},").into());
        arg(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM json_each(o.lines) l, json_each(l.value -> 'a') a WHERE a.value ->> 0 = ?)",
            id.into(),
        );
    }
    if let Some(sku) = &f.sku {
        let id: Option<i64> =
            conn.prepare_cached("SELECT id FROM items WHERE sku = ?1")?.query_row([sku], |r| r.get(0)).optional()?;
        // As for FCs: a cheap necessary condition on the stored text (see
        // `lines.rs`: `"cs":<JSON string>` and `"it":<id>,`) before the JSON walk.
        let id = id.unwrap_or(-1);
        let quoted = serde_json::to_string(sku).map_err(|e| StoreError::Internal(e.to_string()))?;
        arg(&mut sql, " AND (instr(o.lines, ?) > 0", format!("\"cs\":{quoted}").into());
        arg(&mut sql, " OR instr(o.lines, ?) > 0)", format!("\"it\":{id},").into());
        arg(&mut sql, " AND EXISTS (SELECT 1 FROM json_each(o.lines) l WHERE l.value ->> 'cs' = ?", sku.clone().into());
        arg(&mut sql, " OR l.value ->> 'it' = ?)", id.into());
    }
    if let Some((at, id)) = f.before {
        arg(&mut sql, " AND (o.placed_at < ?", at.0.into());
        arg(&mut sql, " OR (o.placed_at = ?", at.0.into());
        arg(&mut sql, " AND o.id < ?))", id.into());
    }
    arg(&mut sql, " ORDER BY o.placed_at DESC, o.id DESC LIMIT ?", (limit as i64).into());
    let ids: Vec<i64> =
        conn.prepare_cached(&sql)?.query_map(params_from_iter(args), |r| r.get(0))?.collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.extend(read::order(conn, id)?);
    }
    Ok(out)
}

/// Movements matching `f`, oldest first. A filter by SKU or order reads the
/// movement index (plus its unindexed tail) for the items involved; by FC
/// alone it walks the ledger in id order until the page is full.
pub fn movements(conn: &Connection, f: &MovementFilter, limit: usize) -> Result<Vec<MovementView>> {
    let id_of = |sql: &str, key: &str| -> Result<Option<i64>> {
        Ok(conn.prepare_cached(sql)?.query_row([key], |r| r.get::<_, i64>(0)).optional()?)
    };
    let fc = match &f.fc {
        Some(code) => match id_of("SELECT id FROM fulfillment_centers WHERE code = ?1", code)? {
            Some(id) => Some(id),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    let mut items: Option<Vec<i64>> = None;
    if let Some(sku) = &f.sku {
        match id_of("SELECT id FROM items WHERE sku = ?1", sku)? {
            Some(id) => items = Some(vec![id]),
            None => return Ok(Vec::new()),
        }
    }
    if let Some(order) = f.order {
        let text: Option<String> = conn
            .prepare_cached("SELECT lines FROM orders WHERE id = ?1")?
            .query_row([order], |r| r.get(0))
            .optional()?;
        let Some(text) = text else { return Ok(Vec::new()) };
        let mut touched: Vec<i64> = crate::lines::decode(order, &text)?
            .iter()
            .flat_map(|l| l.parts.iter().map(|p| p.0).chain(l.allocs.iter().map(|a| a.1)))
            .collect();
        touched.sort_unstable();
        touched.dedup();
        items = Some(match items {
            Some(only) => touched.into_iter().filter(|i| only.contains(i)).collect(),
            None => touched,
        });
    }
    let after = f.after_id.unwrap_or(0);
    let mut args: Vec<Value> = vec![after.into()];
    let mut sql = String::from(
        "SELECT m.id, m.at, i.sku, f.code, m.on_hand_delta, m.committed_delta, m.on_hand_after, m.committed_after,
                m.reason, m.reference, m.actor
         FROM movements m JOIN items i ON i.id = m.item_id JOIN fulfillment_centers f ON f.id = m.fc_id
         WHERE m.id > ?1",
    );
    if let Some(items) = &items {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let list = items.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let fc_clause = if fc.is_some() { " AND fc_id = ?2" } else { "" };
        sql.push_str(&format!(
            " AND m.id IN (SELECT movement_id FROM movement_index WHERE item_id IN ({list}){fc_clause} AND movement_id > ?1
                           UNION ALL
                           SELECT id FROM movements WHERE id > MAX(?1, (SELECT indexed_upto FROM movement_index_state))
                             AND item_id IN ({list}){fc_clause})"
        ));
    }
    if let Some(fc) = fc {
        args.push(fc.into());
        sql.push_str(" AND m.fc_id = ?2");
    }
    if let Some(order) = f.order {
        args.push(format!("order:{order}").into());
        sql.push_str(&format!(" AND m.reference = ?{}", args.len()));
    }
    args.push((limit as i64).into());
    sql.push_str(&format!(" ORDER BY m.id LIMIT ?{}", args.len()));
    Ok(conn
        .prepare(&sql)?
        .query_map(params_from_iter(args), |r| {
            Ok(MovementView {
                id: r.get(0)?,
                at: Timestamp(r.get(1)?),
                sku: r.get(2)?,
                fc: r.get(3)?,
                on_hand_delta: r.get(4)?,
                committed_delta: r.get(5)?,
                on_hand_after: r.get(6)?,
                committed_after: r.get(7)?,
                reason: r.get(8)?,
                reference: r.get(9)?,
                actor: r.get(10)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// Per channel: import health and how many listings wait for or failed a push.
pub fn sync_status(conn: &Connection) -> Result<Vec<SyncStatusView>> {
    Ok(conn
        .prepare_cached(
            "SELECT c.id, c.name, c.kind, c.import_orders, c.last_import_at, c.last_import_error,
                    (SELECT COUNT(*) FROM listings l LEFT JOIN push_state p ON p.listing_id = l.id
                        WHERE l.channel_id = c.id AND l.item_id IS NOT NULL AND c.push_quantities
                          AND (COALESCE(p.desired_version > p.acked_version, 0)
                               OR EXISTS (SELECT 1 FROM push_queue q WHERE ',' || q.items || ',' LIKE '%,' || l.item_id || ',%'))),
                    (SELECT COUNT(*) FROM push_state p
                        WHERE p.channel_id = c.id AND p.desired_version > p.acked_version AND p.last_error IS NOT NULL)
             FROM channels c ORDER BY c.id",
        )?
        .query_map([], |r| {
            Ok(SyncStatusView {
                id: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                import_orders: r.get(3)?,
                last_import_at: r.get::<_, Option<i64>>(4)?.map(Timestamp),
                last_import_error: r.get(5)?,
                pending_pushes: r.get(6)?,
                failed_pushes: r.get(7)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}
