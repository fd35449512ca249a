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
        "committed = open allocations",
        &format!(
            "SELECT {LEVEL} || ': committed ' || s.committed || ', open allocations ' || COALESCE(a.q, 0)
             FROM stock_levels s LEFT JOIN
               (SELECT item_id, fc_id, SUM(quantity) AS q FROM allocations WHERE shipped = 0 GROUP BY item_id, fc_id) a
               ON a.item_id = s.item_id AND a.fc_id = s.fc_id
             WHERE s.committed != COALESCE(a.q, 0)
             UNION ALL
             SELECT 'allocation at an unknown level: item ' || a.item_id || ' fc ' || a.fc_id FROM allocations a
             WHERE a.shipped = 0 AND NOT EXISTS (SELECT 1 FROM stock_levels s WHERE s.item_id = a.item_id AND s.fc_id = a.fc_id)"
        ),
    )?;
    run(
        "terminal orders hold nothing",
        "SELECT 'order ' || o.id || ' is ' || o.status || ' but holds ' || SUM(a.quantity) || ' unit(s)'
         FROM orders o JOIN allocations a ON a.order_id = o.id AND a.shipped = 0
         WHERE o.status IN ('shipped', 'cancelled') GROUP BY o.id",
    )?;
    run(
        "exactly once",
        "SELECT 'order ' || o.id || ': ledger nets ' || COALESCE(m.c, 0) || ' committed of item ' || k.item_id || ' at fc ' || k.fc_id
                || ' but it holds ' || COALESCE(a.q, 0)
         FROM (SELECT DISTINCT CAST(substr(reference, 7) AS INTEGER) AS order_id, item_id, fc_id FROM movements
               WHERE reference LIKE 'order:%') k
         JOIN orders o ON o.id = k.order_id
         LEFT JOIN (SELECT CAST(substr(reference, 7) AS INTEGER) AS order_id, item_id, fc_id, SUM(committed_delta) AS c
                    FROM movements WHERE reference LIKE 'order:%' GROUP BY 1, 2, 3) m
           ON m.order_id = k.order_id AND m.item_id = k.item_id AND m.fc_id = k.fc_id
         LEFT JOIN (SELECT order_id, item_id, fc_id, SUM(quantity) AS q FROM allocations WHERE shipped = 0 GROUP BY 1, 2, 3) a
           ON a.order_id = k.order_id AND a.item_id = k.item_id AND a.fc_id = k.fc_id
         WHERE COALESCE(m.c, 0) != COALESCE(a.q, 0)",
    )?;
    out.extend(check_lines(conn)?);
    Ok(out)
}

/// A line's allocated units plus its backordered units equal its quantity,
/// for every live line of every open order.
fn check_lines(conn: &Connection) -> Result<Vec<String>> {
    let mut q = conn.prepare(
        "SELECT l.id, o.id, l.line_id, l.parts, l.quantity, l.backordered FROM order_lines l JOIN orders o ON o.id = l.order_id
         WHERE l.removed = 0 AND o.status NOT IN ('shipped', 'cancelled')",
    )?;
    let mut held: HashMap<(i64, i64), i64> = HashMap::new();
    let mut a =
        conn.prepare("SELECT line_pk, item_id, SUM(quantity) FROM allocations WHERE shipped = 0 GROUP BY 1, 2")?;
    for row in a.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))? {
        let (k, v) = row?;
        held.insert(k, v);
    }
    let mut out = Vec::new();
    let rows = q.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
        ))
    })?;
    for row in rows {
        let (key, order, line_id, parts, quantity, backordered) = row?;
        let parts: Vec<(i64, i64)> = parts
            .split('|')
            .filter_map(|p| p.split_once(':').and_then(|(i, q)| Some((i.parse().ok()?, q.parse().ok()?))))
            .collect();
        let units: Vec<i64> =
            parts.iter().map(|(item, per)| held.get(&(key, *item)).copied().unwrap_or(0) / per.max(&1)).collect();
        let allocated = units.first().copied().unwrap_or(0);
        if units.iter().any(|u| *u != allocated) {
            out.push(format!("lines: order {order} line {line_id}: components allocated unevenly {units:?}"));
        } else if allocated + backordered != quantity {
            out.push(format!(
                "lines: order {order} line {line_id}: {allocated} allocated + {backordered} backordered ≠ quantity {quantity}"
            ));
        }
        if out.len() >= VIOLATIONS_PER_CHECK_MAX {
            break;
        }
    }
    Ok(out)
}
