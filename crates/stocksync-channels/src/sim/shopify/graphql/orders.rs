//! `orders(first, after, sortKey: UPDATED_AT, query)` with keyset cursors
//! (an order changed mid-poll moves behind the cursor and shows up again,
//! as on Shopify) and `order(id:) { lineItems(first, after) }`. Faults: a
//! page overlapping the previous one by an order, nodes shuffled.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use stocksync_core::Timestamp;

use super::{GqlError, first_arg, gql_error};
use crate::sim::shopify::{ShopifySim, SimOrder};

fn cursor(text: String) -> String {
    STANDARD.encode(text)
}

fn decode(cursor: &Value, prefix: &str) -> Result<Option<String>, GqlError> {
    let Some(raw) = cursor.as_str() else { return Ok(None) };
    let text = STANDARD.decode(raw).ok().and_then(|b| String::from_utf8(b).ok());
    match text.as_deref().and_then(|t| t.strip_prefix(prefix)) {
        Some(rest) => Ok(Some(rest.to_owned())),
        None => Err(gql_error(format!("Invalid cursor {raw:?}"), "BAD_REQUEST")),
    }
}

/// `updated_at:>='…' updated_at:<'…'` as an inclusive-exclusive window in ms.
fn window(query: &str) -> Result<(i64, i64), GqlError> {
    let (mut from, mut to) = (i64::MIN, i64::MAX);
    for term in query.split_whitespace() {
        let Some(cond) = term.strip_prefix("updated_at:") else {
            return Err(gql_error(format!("the simulator filters by updated_at only, not {term:?}"), "BAD_REQUEST"));
        };
        let (op, raw) = [">=", "<=", ">", "<"]
            .iter()
            .find_map(|op| cond.strip_prefix(op).map(|v| (*op, v)))
            .ok_or_else(|| gql_error(format!("bad comparison in {term:?}"), "BAD_REQUEST"))?;
        let at = Timestamp::parse_rfc3339("updated_at", raw.trim_matches(|c| c == '\'' || c == '"'))
            .map_err(|e| gql_error(e.to_string(), "BAD_REQUEST"))?
            .millis();
        match op {
            ">=" => from = at,
            ">" => from = at + 1,
            "<" => to = at,
            _ => to = at + 1,
        }
    }
    Ok((from, to))
}

fn lines_json(o: &SimOrder, first: i64, start: usize) -> Value {
    let page: Vec<Value> = o
        .lines
        .iter()
        .skip(start)
        .take(first as usize)
        .map(|l| {
            json!({
                "id": format!("gid://shopify/LineItem/{}", l.id),
                "sku": l.sku,
                "quantity": l.quantity,
                "currentQuantity": l.current,
            })
        })
        .collect();
    let end = start + page.len();
    let end_cursor = (!page.is_empty()).then(|| cursor(format!("l:{}", end - 1)));
    json!({ "pageInfo": { "hasNextPage": end < o.lines.len(), "endCursor": end_cursor }, "nodes": page })
}

fn order_json(id: u64, o: &SimOrder, lines: i64) -> Value {
    json!({
        "id": format!("gid://shopify/Order/{id}"),
        "legacyResourceId": id.to_string(),
        "name": format!("#{}", id % 100_000),
        "createdAt": Timestamp(o.created_ms).to_string(),
        "updatedAt": Timestamp(o.updated_ms).to_string(),
        "cancelledAt": o.cancelled_ms.map(|ms| Timestamp(ms).to_string()),
        "closed": o.fulfilled || o.cancelled_ms.is_some(),
        "displayFulfillmentStatus": if o.fulfilled { "FULFILLED" } else { "UNFULFILLED" },
        "lineItems": lines_json(o, lines, 0),
    })
}

/// The data and its actual cost.
pub(super) fn orders(sim: &ShopifySim, vars: &Value) -> Result<(Value, f64), GqlError> {
    let first = first_arg(vars, "first")? as usize;
    let lines = first_arg(vars, "lines")?;
    let (from, to) = window(vars["query"].as_str().unwrap_or_default())?;
    let after = decode(&vars["after"], "o:")?
        .map(|key| {
            let (at, id) = key.split_once(':').unwrap_or_default();
            Ok::<_, GqlError>((at.parse::<i64>().unwrap_or(i64::MIN), id.parse::<u64>().unwrap_or(0)))
        })
        .transpose()?;
    let mut sorted: Vec<(i64, u64, SimOrder)> = {
        let st = sim.lock();
        st.orders
            .iter()
            .filter(|(_, o)| (from..to).contains(&o.updated_ms))
            .map(|(id, o)| (o.updated_ms, *id, o.clone()))
            .collect()
    };
    sorted.sort_by_key(|(at, id, _)| (*at, *id));
    let mut start = after.map_or(0, |key| sorted.partition_point(|(at, id, _)| (*at, *id) <= key));
    let end = (start + first).min(sorted.len());
    if start > 0 && sim.faults.roll(|f| f.duplicate_pages) {
        start -= 1;
        sim.lock().stats.pages_overlapped += 1;
    }
    let page = &sorted[start..end];
    let mut nodes: Vec<Value> = page.iter().map(|(_, id, o)| order_json(*id, o, lines)).collect();
    if sim.faults.roll(|f| f.shuffle_pages) {
        sim.faults.shuffle(&mut nodes);
    }
    let end_cursor = page.last().map(|(at, id, _)| cursor(format!("o:{at}:{id}")));
    let actual = 2.0 + page.iter().map(|(_, _, o)| 4.0 + o.lines.len().min(lines as usize) as f64).sum::<f64>();
    let data = json!({
        "orders": { "pageInfo": { "hasNextPage": end < sorted.len(), "endCursor": end_cursor }, "nodes": nodes }
    });
    Ok((data, actual))
}

pub(super) fn order(sim: &ShopifySim, vars: &Value) -> Result<(Value, f64), GqlError> {
    let lines = first_arg(vars, "lines")?;
    let gid = vars["id"].as_str().unwrap_or_default();
    let id = gid.strip_prefix("gid://shopify/Order/").and_then(|n| n.parse::<u64>().ok());
    let start = decode(&vars["after"], "l:")?.map_or(0, |i| i.parse::<usize>().map_or(0, |i| i + 1));
    let order = id.and_then(|id| sim.lock().orders.get(&id).cloned());
    let data = match order {
        Some(o) => json!({ "order": { "lineItems": lines_json(&o, lines, start) } }),
        None => json!({ "order": null }),
    };
    Ok((data, 4.0 + lines as f64))
}
