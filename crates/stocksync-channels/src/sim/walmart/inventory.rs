//! `PUT /v3/inventory?sku=` with `{sku, quantity:{unit:"EACH", amount}}`,
//! answered with the same document (404 for an unknown SKU), and
//! `GET /v3/inventories` (every SKU across ship nodes, cursor paging).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{REQUEST_LOG_MAX, WalmartSim, error, stamp};

/// The simulated seller's one ship node.
const SHIP_NODE: &str = "10000012345";
const PAGE_MAX: usize = 50;

pub(super) async fn put(
    State(sim): State<WalmartSim>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let (left, refills_at) = match sim.admit("inventory", &headers) {
        Ok(grant) => grant,
        Err(refused) => return *refused,
    };
    let bad = |info: &str| error(StatusCode::BAD_REQUEST, "CONTENT_NOT_FOUND.GMP_INVENTORY_API", info);
    let Some(sku) = q.get("sku").filter(|s| !s.is_empty()) else { return bad("sku is required") };
    let Ok(raw) = serde_json::from_slice::<Value>(&body) else { return bad("The body is not JSON") };
    {
        let mut st = sim.lock();
        st.puts.push_back(raw.clone());
        if st.puts.len() > REQUEST_LOG_MAX {
            st.puts.pop_front();
        }
    }
    let amount = raw["quantity"]["amount"].as_f64().filter(|a| *a >= 0.0 && a.fract() == 0.0);
    let (Some(amount), true, true) = (amount, raw["quantity"]["unit"] == "EACH", raw["sku"] == sku.as_str()) else {
        return bad("quantity.amount must be a whole number ≥ 0 in EACH, for the sku in the query");
    };
    let found = {
        let mut st = sim.lock();
        st.items.get_mut(sku).map(|item| {
            item.quantity = amount as i64;
            item.set_at_ms = crate::clock::system_now().millis();
        })
    };
    if found.is_none() {
        return stamp(
            error(StatusCode::NOT_FOUND, "CONTENT_NOT_FOUND.GMP_INVENTORY_API", "Item not found"),
            left,
            refills_at,
        );
    }
    if sim.faults.roll(|f| f.lose_answer) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR.GMP_GATEWAY_API", "Internal error");
    }
    let echo = json!({ "sku": sku, "quantity": { "unit": "EACH", "amount": amount as i64 } });
    stamp(Json(echo).into_response(), left, refills_at)
}

pub(super) async fn list(
    State(sim): State<WalmartSim>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (left, refills_at) = match sim.admit("inventory", &headers) {
        Ok(grant) => grant,
        Err(refused) => return *refused,
    };
    let limit = q.get("limit").and_then(|v| v.parse::<usize>().ok()).unwrap_or(10).clamp(1, PAGE_MAX);
    let offset = q.get("nextCursor").and_then(|c| c.strip_prefix("sim-")).and_then(|c| c.parse().ok()).unwrap_or(0);
    let st = sim.lock();
    let each = |n: i64| json!({ "unit": "EACH", "amount": n });
    let inventories: Vec<Value> = st
        .items
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(sku, item)| {
            json!({ "sku": sku, "nodes": [{ "shipNode": SHIP_NODE, "inputQty": each(item.quantity),
                "availToSellQty": each(item.quantity), "reservedQty": each(0) }] })
        })
        .collect();
    let mut meta = json!({ "totalCount": st.items.len() });
    if offset + limit < st.items.len() {
        meta["nextCursor"] = json!(format!("sim-{}", offset + limit));
    }
    stamp(Json(json!({ "meta": meta, "elements": { "inventories": inventories } })).into_response(), left, refills_at)
}
