//! The invariants of PRODUCT.md §8 that the database can show, on
//! PostgreSQL (the same checks and sentences as `crate::sqlite::check`).

use super::Conn;
use crate::error::Result;
use crate::line_checks::LineChecks;

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

/// The checks that need each order's inline lines (`crate::line_checks`):
/// orders, then levels, then each order's ledger nets.
fn check_lines(conn: &mut Conn) -> Result<Vec<String>> {
    let mut checks = LineChecks::default();
    for r in conn.query_uncached("SELECT id, status, lines FROM orders", &[])? {
        let (order, status, text): (i64, String, String) = (r.get(0), r.get(1), r.get(2));
        checks.order(order, &status, &text)?;
    }
    let levels = conn.query_uncached(
        "SELECT s.item_id, s.fc_id, i.sku, f.code, s.committed FROM stock_levels s
         JOIN items i ON i.id = s.item_id JOIN fulfillment_centers f ON f.id = s.fc_id",
        &[],
    )?;
    for r in levels {
        let (sku, code): (String, String) = (r.get(2), r.get(3));
        checks.level(r.get(0), r.get(1), &sku, &code, r.get(4));
    }
    let nets = conn.query_uncached(
        "SELECT substr(reference, 7)::bigint, item_id, fc_id, SUM(committed_delta)::bigint FROM movements
         WHERE reference LIKE 'order:%' GROUP BY 1, 2, 3",
        &[],
    )?;
    for r in nets {
        checks.net(r.get(0), r.get(1), r.get(2), r.get(3));
    }
    Ok(checks.finish())
}
