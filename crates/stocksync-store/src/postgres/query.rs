//! List queries behind the API's collections, on PostgreSQL reader
//! connections (the same answers as `crate::sqlite::query`), keyset-paged.

use postgres::types::ToSql;
use stocksync_core::Timestamp;
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::push::PushRules;
use stocksync_core::values::FcCode;

use super::{Conn, read};
use crate::error::{Result, StoreError};
use crate::views::{
    ChannelView, Counts, FcView, ItemView, LevelFilter, LevelView, ListingView, MovementFilter, MovementView,
    OrderFilter, OrderView, SyncStatusView,
};

pub fn fc(conn: &mut Conn, code: &str) -> Result<Option<FcView>> {
    let row =
        conn.query_opt("SELECT code, name, priority, active FROM fulfillment_centers WHERE code = $1", &[&code])?;
    Ok(row.as_ref().map(read::fc_view))
}

/// Items by SKU; `q` matches a substring of the SKU or title (case-insensitive).
pub fn items(
    conn: &mut Conn,
    q: Option<&str>,
    kind: Option<&str>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<ItemView>> {
    let pattern = q.map(|q| format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
    let skus: Vec<String> = conn
        .query(
            "SELECT sku FROM items
             WHERE ($1::text IS NULL OR sku ILIKE $1 ESCAPE '\\' OR title ILIKE $1 ESCAPE '\\')
               AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR sku > $3)
             ORDER BY sku LIMIT $4",
            &[&pattern, &kind, &after, &(limit as i64)],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out = Vec::with_capacity(skus.len());
    for sku in skus {
        out.extend(read::item(conn, &sku)?);
    }
    Ok(out)
}

/// Stock levels by `(sku, fc)`.
pub fn levels(conn: &mut Conn, f: &LevelFilter, limit: usize) -> Result<Vec<LevelView>> {
    let (after_sku, after_fc) = f.after.clone().unzip();
    let rows = conn.query(
        "SELECT i.sku, f.code, l.on_hand, l.committed FROM stock_levels l
         JOIN items i ON i.id = l.item_id JOIN fulfillment_centers f ON f.id = l.fc_id
         WHERE ($1::text IS NULL OR f.code = $1)
           AND ($2::text IS NULL OR starts_with(i.sku, $2))
           AND ($3::bigint IS NULL OR l.on_hand - l.committed < $3)
           AND ($4::text IS NULL OR i.sku > $4 OR (i.sku = $4 AND f.code > $5))
         ORDER BY i.sku, f.code LIMIT $6",
        &[&f.fc, &f.sku_prefix, &f.available_below, &after_sku, &after_fc, &(limit as i64)],
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let (on_hand, committed): (i64, i64) = (r.get(2), r.get(3));
            LevelView {
                sku: r.get(0),
                fc: r.get(1),
                counts: Counts { on_hand, committed, available: on_hand - committed },
            }
        })
        .collect())
}

pub fn channels(conn: &mut Conn) -> Result<Vec<ChannelView>> {
    let ids: Vec<i64> = conn.query("SELECT id FROM channels ORDER BY id", &[])?.iter().map(|r| r.get(0)).collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.extend(channel(conn, id)?);
    }
    Ok(out)
}

pub fn channel(conn: &mut Conn, id: i64) -> Result<Option<ChannelView>> {
    let Some(r) = conn.query_opt(
        "SELECT c.name, c.kind, c.base_url, c.credentials, c.import_orders, c.push_quantities, c.import_quantities,
                f.code, c.all_fcs, c.allow_split, c.percent, c.min_threshold, c.max_visible, c.poll_interval_s,
                c.last_import_at, c.last_import_error, c.created_at
         FROM channels c LEFT JOIN fulfillment_centers f ON f.id = c.source_fc_id WHERE c.id = $1",
        &[&id],
    )?
    else {
        return Ok(None);
    };
    let kind: String = r.get(1);
    let kind = ChannelKind::parse("kind", &kind).map_err(|e| StoreError::Internal(e.to_string()))?;
    let fulfillment_centers = if r.get(8) {
        None
    } else {
        let codes: Vec<String> = conn
            .query(
                "SELECT f.code FROM channel_fcs c JOIN fulfillment_centers f ON f.id = c.fc_id
                 WHERE c.channel_id = $1 ORDER BY f.priority, f.code",
                &[&id],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Some(codes.iter().map(|c| fc_code(c)).collect::<Result<_>>()?)
    };
    let source_fc: Option<String> = r.get(7);
    let credentials: String = r.get(3);
    let settings = ChannelSettings {
        import_orders: r.get(4),
        push_quantities: r.get(5),
        import_quantities: r.get(6),
        source_fc: source_fc.as_deref().map(fc_code).transpose()?,
        fulfillment_centers,
        allow_split: r.get(9),
        push: PushRules { percent: r.get::<_, i64>(10) as u32, min_threshold: r.get(11), max_visible: r.get(12) },
        poll_interval_s: r.get::<_, i64>(13) as u32,
    };
    Ok(Some(ChannelView {
        id,
        name: r.get(0),
        kind,
        base_url: r.get(2),
        settings,
        has_credentials: credentials != "{}",
        last_import_at: r.get::<_, Option<i64>>(14).map(Timestamp),
        last_import_error: r.get(15),
        created_at: Timestamp(r.get(16)),
    }))
}

fn fc_code(code: &str) -> Result<FcCode> {
    FcCode::parse(code).map_err(|e| StoreError::Internal(format!("stored FC code {code:?}: {e}")))
}

/// A channel's listings by channel SKU, each with the quantity it should show.
pub fn listings(conn: &mut Conn, channel: i64, after: Option<&str>, limit: usize) -> Result<Vec<ListingView>> {
    listing_rows(conn, channel, after, None, limit)
}

pub fn listing(conn: &mut Conn, channel: i64, channel_sku: &str) -> Result<Option<ListingView>> {
    Ok(listing_rows(conn, channel, None, Some(channel_sku), 1)?.pop())
}

fn listing_rows(
    conn: &mut Conn,
    channel: i64,
    after: Option<&str>,
    exact: Option<&str>,
    limit: usize,
) -> Result<Vec<ListingView>> {
    let rows = conn.query(
        "SELECT l.channel_sku, l.item_id, i.sku, i.kind, l.external_id, l.percent, l.min_threshold, l.max_visible,
                l.last_pushed_quantity, l.last_pushed_at
         FROM listings l LEFT JOIN items i ON i.id = l.item_id
         WHERE l.channel_id = $1 AND ($2::text IS NULL OR l.channel_sku > $2) AND ($3::text IS NULL OR l.channel_sku = $3)
         ORDER BY l.channel_sku LIMIT $4",
        &[&channel, &after, &exact, &(limit as i64)],
    )?;
    let fcs = read::all_fcs(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let channel_sku: String = r.get(0);
        let (item, kind): (Option<i64>, Option<String>) = (r.get(1), r.get(3));
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
            sku: r.get(2),
            external_id: r.get(4),
            overrides: read::overrides(&r, 5),
            quantity: quantity.as_ref().map(|q| q.quantity),
            last_pushed_quantity: r.get(8),
            last_pushed_at: r.get::<_, Option<i64>>(9).map(Timestamp),
            state: quantity.as_ref().map_or("in_sync", |q| q.state),
            channel_sku,
        });
    }
    Ok(out)
}

/// Orders matching `f`, newest first by `(placed_at, id)`.
pub fn orders(conn: &mut Conn, f: &OrderFilter, limit: usize) -> Result<Vec<OrderView>> {
    let mut sql = String::from("SELECT o.id FROM orders o WHERE TRUE");
    let mut args: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    let mut arg = |sql: &mut String, clause: &str, v: Box<dyn ToSql + Sync>| {
        args.push(v);
        sql.push_str(&clause.replace('?', &format!("${}", args.len())));
    };
    if let Some(c) = f.channel {
        arg(&mut sql, " AND o.channel_id = ?", Box::new(c));
    }
    if let Some(s) = &f.status {
        arg(&mut sql, " AND o.status = ?", Box::new(s.clone()));
    }
    if let Some(t) = f.placed_after {
        arg(&mut sql, " AND o.placed_at >= ?", Box::new(t.0));
    }
    if let Some(t) = f.placed_before {
        arg(&mut sql, " AND o.placed_at < ?", Box::new(t.0));
    }
    if let Some(fc) = &f.fc {
        let id: Option<i64> =
            conn.query_opt("SELECT id FROM fulfillment_centers WHERE code = $1", &[fc])?.map(|r| r.get(0));
        // `strpos` first, as on SQLite: a cheap necessary condition on the
        // stored text (an allocation is `[fc,item,qty,shipped]`) that spares
        // most rows the parse into jsonb.
        let id = id.unwrap_or(-1);
        arg(&mut sql, " AND strpos(o.lines, ?) > 0", Box::new(format!("[{id},")));
        arg(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM jsonb_array_elements(o.lines::jsonb) l,
                                jsonb_array_elements(COALESCE(l -> 'a', '[]'::jsonb)) a
                          WHERE (a ->> 0)::bigint = ?)",
            Box::new(id),
        );
    }
    if let Some(sku) = &f.sku {
        let id: Option<i64> = conn.query_opt("SELECT id FROM items WHERE sku = $1", &[sku])?.map(|r| r.get(0));
        // As for FCs (see `lines.rs`: `"cs":<JSON string>` and `"it":<id>,`).
        let id = id.unwrap_or(-1);
        let quoted = serde_json::to_string(sku).map_err(|e| StoreError::Internal(e.to_string()))?;
        arg(&mut sql, " AND (strpos(o.lines, ?) > 0", Box::new(format!("\"cs\":{quoted}")));
        arg(&mut sql, " OR strpos(o.lines, ?) > 0)", Box::new(format!("\"it\":{id},")));
        arg(
            &mut sql,
            " AND EXISTS (SELECT 1 FROM jsonb_array_elements(o.lines::jsonb) l WHERE l ->> 'cs' = ?",
            Box::new(sku.clone()),
        );
        arg(&mut sql, " OR (l ->> 'it')::bigint = ?)", Box::new(id));
    }
    if let Some((at, id)) = f.before {
        arg(&mut sql, " AND (o.placed_at < ?", Box::new(at.0));
        arg(&mut sql, " OR (o.placed_at = ?", Box::new(at.0));
        arg(&mut sql, " AND o.id < ?))", Box::new(id));
    }
    arg(&mut sql, " ORDER BY o.placed_at DESC, o.id DESC LIMIT ?", Box::new(limit as i64));
    let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref()).collect();
    let ids: Vec<i64> = conn.query(&sql, &params)?.iter().map(|r| r.get(0)).collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.extend(read::order(conn, id)?);
    }
    Ok(out)
}

/// Movements matching `f`, oldest first (see the SQLite backend for the plan).
pub fn movements(conn: &mut Conn, f: &MovementFilter, limit: usize) -> Result<Vec<MovementView>> {
    let fc: Option<i64> = match &f.fc {
        Some(code) => match conn.query_opt("SELECT id FROM fulfillment_centers WHERE code = $1", &[code])? {
            Some(r) => Some(r.get(0)),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    let mut items: Option<Vec<i64>> = None;
    if let Some(sku) = &f.sku {
        match conn.query_opt("SELECT id FROM items WHERE sku = $1", &[sku])? {
            Some(r) => items = Some(vec![r.get(0)]),
            None => return Ok(Vec::new()),
        }
    }
    if let Some(order) = f.order {
        let Some(r) = conn.query_opt("SELECT lines FROM orders WHERE id = $1", &[&order])? else {
            return Ok(Vec::new());
        };
        let text: String = r.get(0);
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
    if items.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let reference = f.order.map(|o| format!("order:{o}"));
    let rows = conn.query(
        "SELECT m.id, m.at, i.sku, f.code, m.on_hand_delta, m.committed_delta, m.on_hand_after, m.committed_after,
                m.reason, m.reference, m.actor
         FROM movements m JOIN items i ON i.id = m.item_id JOIN fulfillment_centers f ON f.id = m.fc_id
         WHERE m.id > $1
           AND ($2::bigint[] IS NULL OR m.id IN (
                 SELECT movement_id FROM movement_index
                 WHERE item_id = ANY($2) AND ($3::bigint IS NULL OR fc_id = $3) AND movement_id > $1
                 UNION ALL
                 SELECT id FROM movements
                 WHERE id > GREATEST($1, (SELECT indexed_upto FROM movement_index_state))
                   AND item_id = ANY($2) AND ($3::bigint IS NULL OR fc_id = $3)))
           AND ($3::bigint IS NULL OR m.fc_id = $3)
           AND ($4::text IS NULL OR m.reference = $4)
         ORDER BY m.id LIMIT $5",
        &[&f.after_id.unwrap_or(0), &items, &fc, &reference, &(limit as i64)],
    )?;
    Ok(rows
        .iter()
        .map(|r| MovementView {
            id: r.get(0),
            at: Timestamp(r.get(1)),
            sku: r.get(2),
            fc: r.get(3),
            on_hand_delta: r.get(4),
            committed_delta: r.get(5),
            on_hand_after: r.get(6),
            committed_after: r.get(7),
            reason: r.get(8),
            reference: r.get(9),
            actor: r.get(10),
        })
        .collect())
}

/// Per channel: import health and how many listings wait for or failed a push.
pub fn sync_status(conn: &mut Conn) -> Result<Vec<SyncStatusView>> {
    let rows = conn.query(
        "SELECT c.id, c.name, c.kind, c.import_orders, c.last_import_at, c.last_import_error,
                (SELECT COUNT(*) FROM listings l LEFT JOIN push_state p ON p.listing_id = l.id
                    WHERE l.channel_id = c.id AND l.item_id IS NOT NULL AND c.push_quantities
                      AND (COALESCE(p.desired_version > p.acked_version, FALSE)
                           OR EXISTS (SELECT 1 FROM push_queue q
                                      WHERE ',' || q.items || ',' LIKE '%,' || l.item_id::text || ',%'))),
                (SELECT COUNT(*) FROM push_state p
                    WHERE p.channel_id = c.id AND p.desired_version > p.acked_version AND p.last_error IS NOT NULL)
         FROM channels c ORDER BY c.id",
        &[],
    )?;
    Ok(rows
        .iter()
        .map(|r| SyncStatusView {
            id: r.get(0),
            name: r.get(1),
            kind: r.get(2),
            import_orders: r.get(3),
            last_import_at: r.get::<_, Option<i64>>(4).map(Timestamp),
            last_import_error: r.get(5),
            pending_pushes: r.get(6),
            failed_pushes: r.get(7),
        })
        .collect())
}
