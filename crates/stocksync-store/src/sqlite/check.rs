//! The invariants of PRODUCT.md §8 that the database can show, checked with
//! SQL over the whole state. Each violation is a sentence naming what is wrong.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::error::Result;

/// Most violations listed per invariant; the count beyond is summarised.
const VIOLATIONS_PER_CHECK_MAX: usize = 20;

pub fn check(conn: &Connection) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut run = |name: &str, sql: &str| -> Result<()> {
        let mut q = conn.prepare(sql)?;
        let rows: Vec<String> = q.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<_, _>>()?;
        let n = rows.len();
        out.extend(rows.into_iter().take(VIOLATIONS_PER_CHECK_MAX).map(|r| format!("{name}: {r}")));
        if n > VIOLATIONS_PER_CHECK_MAX {
            out.push(format!("{name}: … and {} more", n - VIOLATIONS_PER_CHECK_MAX));
        }
        Ok(())
    };
    const LEVEL: &str = "(SELECT sku FROM items WHERE id = s.item_id) || ' at ' || (SELECT code FROM fulfillment_centers WHERE id = s.fc_id)";
    run(
        "no oversell",
        &format!(
            "SELECT {LEVEL} || ': on_hand ' || on_hand || ', committed ' || committed FROM stock_levels s
             WHERE on_hand < 0 OR committed < 0 OR committed > on_hand"
        ),
    )?;
    run(
        "conservation",
        &format!(
            "SELECT {LEVEL} || ': level ' || s.on_hand || '/' || s.committed || ', ledger ' || COALESCE(m.oh, 0) || '/' || COALESCE(m.c, 0)
             FROM stock_levels s LEFT JOIN
               (SELECT item_id, fc_id, SUM(on_hand_delta) AS oh, SUM(committed_delta) AS c FROM movements GROUP BY item_id, fc_id) m
               ON m.item_id = s.item_id AND m.fc_id = s.fc_id
             WHERE s.on_hand != COALESCE(m.oh, 0) OR s.committed != COALESCE(m.c, 0)"
        ),
    )?;
    run(
        "ledger continuity",
        "SELECT 'movement ' || id || ': after-values ' || on_hand_after || '/' || committed_after || ' but running sums ' || oh || '/' || c
         FROM (SELECT id, on_hand_after, committed_after,
                      SUM(on_hand_delta) OVER (PARTITION BY item_id, fc_id ORDER BY id) AS oh,
                      SUM(committed_delta) OVER (PARTITION BY item_id, fc_id ORDER BY id) AS c FROM movements)
         WHERE oh != on_hand_after OR c != committed_after",
    )?;
    run(
        "movement index",
        "SELECT 'movement ' || m.id || ' is indexed under item ' || x.item_id || ', FC ' || x.fc_id
         FROM movement_index x JOIN movements m ON m.id = x.movement_id
         WHERE m.item_id != x.item_id OR m.fc_id != x.fc_id
         UNION ALL
         SELECT 'movement ' || m.id || ' is below the indexed mark but not in the index' FROM movements m
         WHERE m.id <= (SELECT indexed_upto FROM movement_index_state)
           AND NOT EXISTS (SELECT 1 FROM movement_index x WHERE x.item_id = m.item_id AND x.fc_id = m.fc_id AND x.movement_id = m.id)",
    )?;
    out.extend(check_lines(conn)?);
    Ok(out)
}

/// The checks that need each order's inline lines: committed equals the
/// open allocations; terminal orders hold nothing; each order's ledger nets
/// to what it holds (exactly once); each live line of an open order has
/// allocated + backordered = quantity, components allocated evenly.
fn check_lines(conn: &Connection) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut push = |name: &str, v: String| {
        if out.len() < 4 * VIOLATIONS_PER_CHECK_MAX {
            out.push(format!("{name}: {v}"));
        }
    };
    let mut held: HashMap<(i64, i64), i64> = HashMap::new();
    let mut held_by_order: HashMap<(i64, i64, i64), i64> = HashMap::new();
    let mut q = conn.prepare("SELECT id, status, lines FROM orders")?;
    let rows = q.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
    for row in rows {
        let (order, status, text) = row?;
        let terminal = status == "shipped" || status == "cancelled";
        for l in crate::lines::decode(order, &text)? {
            for &(fc, item, quantity, shipped) in &l.allocs {
                if shipped {
                    continue;
                }
                *held.entry((item, fc)).or_default() += quantity;
                *held_by_order.entry((order, item, fc)).or_default() += quantity;
                if terminal {
                    push(
                        "terminal orders hold nothing",
                        format!("order {order} is {status} but holds {quantity} unit(s)"),
                    );
                }
            }
            if terminal || l.removed {
                continue;
            }
            let units: Vec<i64> = l
                .parts
                .iter()
                .map(|&(item, per)| {
                    l.allocs.iter().filter(|a| !a.3 && a.1 == item).map(|a| a.2).sum::<i64>() / i64::from(per.max(1))
                })
                .collect();
            let allocated = units.first().copied().unwrap_or(0);
            if units.iter().any(|u| *u != allocated) {
                push("lines", format!("order {order} line {}: components allocated unevenly {units:?}", l.line_id));
            } else if allocated + i64::from(l.backordered) != i64::from(l.quantity) {
                push(
                    "lines",
                    format!(
                        "order {order} line {}: {allocated} allocated + {} backordered ≠ quantity {}",
                        l.line_id, l.backordered, l.quantity
                    ),
                );
            }
        }
    }
    let mut levels = conn.prepare(
        "SELECT s.item_id, s.fc_id, i.sku, f.code, s.committed FROM stock_levels s
         JOIN items i ON i.id = s.item_id JOIN fulfillment_centers f ON f.id = s.fc_id",
    )?;
    let rows = levels.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    for row in rows {
        let (item, fc, sku, code, committed) = row?;
        let open = held.remove(&(item, fc)).unwrap_or(0);
        if open != committed {
            push(
                "committed = open allocations",
                format!("{sku} at {code}: committed {committed}, open allocations {open}"),
            );
        }
    }
    for ((item, fc), q) in held {
        push("committed = open allocations", format!("{q} unit(s) allocated at an unknown level: item {item} fc {fc}"));
    }
    let mut nets = conn.prepare(
        "SELECT CAST(substr(reference, 7) AS INTEGER), item_id, fc_id, SUM(committed_delta) FROM movements
         WHERE reference LIKE 'order:%' GROUP BY 1, 2, 3",
    )?;
    let rows = nets
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?)))?;
    for row in rows {
        let (order, item, fc, net) = row?;
        let holds = held_by_order.remove(&(order, item, fc)).unwrap_or(0);
        if net != holds {
            push(
                "exactly once",
                format!("order {order}: ledger nets {net} committed of item {item} at fc {fc} but it holds {holds}"),
            );
        }
    }
    for ((order, item, fc), q) in held_by_order {
        push("exactly once", format!("order {order} holds {q} of item {item} at fc {fc} with no ledger rows"));
    }
    Ok(out)
}
