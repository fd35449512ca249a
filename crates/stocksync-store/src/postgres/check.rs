//! The invariants of PRODUCT.md §8 that the database can show, on
//! PostgreSQL (the same checks and sentences as `crate::sqlite::check`).

use std::collections::HashMap;

use super::Conn;
use crate::error::Result;

/// Most violations listed per invariant; the count beyond is summarised.
const VIOLATIONS_PER_CHECK_MAX: usize = 20;

pub fn check(conn: &mut Conn) -> Result<Vec<String>> {
    // One snapshot for every check: the writer may commit meanwhile.
    conn.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
    let out = checks(conn);
    conn.batch(if out.is_ok() { "COMMIT" } else { "ROLLBACK" })?;
    out
}

fn checks(conn: &mut Conn) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut run = |conn: &mut Conn, name: &str, sql: &str| -> Result<()> {
        let rows: Vec<String> = conn.query_uncached(sql, &[])?.iter().map(|r| r.get(0)).collect();
        let n = rows.len();
        out.extend(rows.into_iter().take(VIOLATIONS_PER_CHECK_MAX).map(|r| format!("{name}: {r}")));
        if n > VIOLATIONS_PER_CHECK_MAX {
            out.push(format!("{name}: … and {} more", n - VIOLATIONS_PER_CHECK_MAX));
        }
        Ok(())
    };
    const LEVEL: &str = "(SELECT sku FROM items WHERE id = s.item_id) || ' at ' || (SELECT code FROM fulfillment_centers WHERE id = s.fc_id)";
    run(
        conn,
        "no oversell",
        &format!(
            "SELECT {LEVEL} || ': on_hand ' || on_hand || ', committed ' || committed FROM stock_levels s
             WHERE on_hand < 0 OR committed < 0 OR committed > on_hand"
        ),
    )?;
    run(
        conn,
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
        conn,
        "ledger continuity",
        "SELECT 'movement ' || id || ': after-values ' || on_hand_after || '/' || committed_after || ' but running sums ' || oh || '/' || c
         FROM (SELECT id, on_hand_after, committed_after,
                      SUM(on_hand_delta) OVER (PARTITION BY item_id, fc_id ORDER BY id) AS oh,
                      SUM(committed_delta) OVER (PARTITION BY item_id, fc_id ORDER BY id) AS c FROM movements) sums
         WHERE oh != on_hand_after OR c != committed_after",
    )?;
    run(
        conn,
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

/// The checks that need each order's inline lines (see the SQLite backend).
fn check_lines(conn: &mut Conn) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut push = |name: &str, v: String| {
        if out.len() < 4 * VIOLATIONS_PER_CHECK_MAX {
            out.push(format!("{name}: {v}"));
        }
    };
    let mut held: HashMap<(i64, i64), i64> = HashMap::new();
    let mut held_by_order: HashMap<(i64, i64, i64), i64> = HashMap::new();
    for r in conn.query_uncached("SELECT id, status, lines FROM orders", &[])? {
        let (order, status, text): (i64, String, String) = (r.get(0), r.get(1), r.get(2));
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
    let levels = conn.query_uncached(
        "SELECT s.item_id, s.fc_id, i.sku, f.code, s.committed FROM stock_levels s
         JOIN items i ON i.id = s.item_id JOIN fulfillment_centers f ON f.id = s.fc_id",
        &[],
    )?;
    for r in levels {
        let (item, fc, sku, code, committed): (i64, i64, String, String, i64) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
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
    let nets = conn.query_uncached(
        "SELECT substr(reference, 7)::bigint, item_id, fc_id, SUM(committed_delta)::bigint FROM movements
         WHERE reference LIKE 'order:%' GROUP BY 1, 2, 3",
        &[],
    )?;
    for r in nets {
        let (order, item, fc, net): (i64, i64, i64, i64) = (r.get(0), r.get(1), r.get(2), r.get(3));
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
