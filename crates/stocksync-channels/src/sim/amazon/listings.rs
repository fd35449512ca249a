//! Listings Items 2021-08-01: `PATCH /listings/2021-08-01/items/{sellerId}/{sku}`
//! (`marketplaceIds` required; `productType` and at least one patch; the
//! `fulfillment_availability` merge or replace sets the quantity at once,
//! where Amazon would apply it within minutes) answered as a
//! `ListingsItemSubmissionResponse`; and `GET
//! /listings/2021-08-01/items/{sellerId}` (searchListingsItems, `pageSize` ≤ 20).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use stocksync_core::Timestamp;

use super::{AmazonSim, REQUEST_LOG_MAX, error};

const PAGE_SIZE_MAX: usize = 20;
const PAGE_SIZE_DEFAULT: usize = 10;

fn marketplace_ok(sim: &AmazonSim, q: &HashMap<String, String>) -> bool {
    q.get("marketplaceIds").is_some_and(|m| m.split(',').any(|m| m == sim.account.marketplace_id))
}

fn submission(sku: &str, status: &str, issues: Vec<Value>) -> Response {
    let id = format!("{:032x}", fastrand::u128(..));
    Json(json!({ "sku": sku, "status": status, "submissionId": id, "issues": issues })).into_response()
}

fn issue(code: &str, message: &str) -> Value {
    json!({
        "code": code, "message": message, "severity": "ERROR",
        "attributeNames": ["fulfillment_availability"], "categories": ["INVALID_ATTRIBUTE"],
    })
}

/// The quantity a patch sets, or why the patch is not understood.
fn patched_quantity(body: &Value) -> Result<i64, &'static str> {
    if !body["productType"].is_string() {
        return Err("productType is required");
    }
    let patches = body["patches"].as_array().filter(|p| !p.is_empty()).ok_or("patches needs at least one operation")?;
    let mut quantity = None;
    for p in patches {
        let op = p["op"].as_str().unwrap_or_default();
        if !["add", "replace", "merge", "delete"].contains(&op) {
            return Err("op must be add, replace, merge or delete");
        }
        if p["path"] != "/attributes/fulfillment_availability" || op == "delete" {
            continue;
        }
        let entry = p["value"].as_array().and_then(|v| v.first()).ok_or("fulfillment_availability needs a value")?;
        if entry["fulfillment_channel_code"] != "DEFAULT" {
            return Err("fulfillment_channel_code must be DEFAULT for merchant-fulfilled stock");
        }
        quantity = Some(entry["quantity"].as_i64().filter(|q| *q >= 0).ok_or("quantity must be a whole number ≥ 0")?);
    }
    quantity.ok_or("no fulfillment_availability patch")
}

pub(super) async fn patch(
    State(sim): State<AmazonSim>,
    Path((seller, sku)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Some(refused) = sim.admit("patchListingsItem", &headers) {
        return refused;
    }
    if seller != sim.account.seller_id {
        return error(StatusCode::FORBIDDEN, "Unauthorized", "Access to requested resource is denied.", "");
    }
    if !marketplace_ok(&sim, &q) {
        return error(StatusCode::BAD_REQUEST, "InvalidInput", "marketplaceIds must name the seller's marketplace", "");
    }
    let Ok(raw) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "InvalidInput", "The request body is not JSON", "");
    };
    {
        let mut st = sim.lock();
        st.patches.push_back(raw.clone());
        if st.patches.len() > REQUEST_LOG_MAX {
            st.patches.pop_front();
        }
    }
    let quantity = match patched_quantity(&raw) {
        Ok(q) => q,
        Err(why) => return submission(&sku, "INVALID", vec![issue("90000900", why)]),
    };
    let applied = {
        let mut st = sim.lock();
        match st.items.get_mut(&sku) {
            Some(item) => {
                item.quantity = quantity;
                item.set_at_ms = crate::clock::system_now().millis();
                true
            }
            None => false,
        }
    };
    if !applied {
        return submission(&sku, "INVALID", vec![issue("4000003", "The SKU does not exist for this seller.")]);
    }
    if sim.faults.roll(|f| f.lose_answer) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", "We encountered an internal error.", "");
    }
    submission(&sku, "ACCEPTED", vec![])
}

pub(super) async fn search(
    State(sim): State<AmazonSim>,
    Path(seller): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = sim.admit("searchListingsItems", &headers) {
        return refused;
    }
    if seller != sim.account.seller_id || !marketplace_ok(&sim, &q) {
        return error(StatusCode::BAD_REQUEST, "InvalidInput", "sellerId and marketplaceIds must be the seller's", "");
    }
    let size = match q.get("pageSize").map(|v| v.parse::<usize>()) {
        None => PAGE_SIZE_DEFAULT,
        Some(Ok(n)) if (1..=PAGE_SIZE_MAX).contains(&n) => n,
        Some(_) => return error(StatusCode::BAD_REQUEST, "InvalidInput", "pageSize must be between 1 and 20", ""),
    };
    let offset = q.get("pageToken").and_then(|t| t.strip_prefix("page-")).and_then(|t| t.parse().ok()).unwrap_or(0);
    let st = sim.lock();
    let now = Timestamp(crate::clock::system_now().millis().div_euclid(1000) * 1000).to_string();
    let items: Vec<Value> = st
        .items
        .iter()
        .skip(offset)
        .take(size)
        .map(|(sku, item)| {
            json!({
                "sku": sku,
                "summaries": [{
                    "marketplaceId": sim.account.marketplace_id, "asin": format!("B0SIM{:05}", sku.len()),
                    "productType": item.product_type, "conditionType": "new_new", "status": ["BUYABLE"],
                    "itemName": format!("Simulated {sku}"), "createdDate": now, "lastUpdatedDate": now,
                }],
                "fulfillmentAvailability": [{ "fulfillmentChannelCode": "DEFAULT", "quantity": item.quantity }],
            })
        })
        .collect();
    let mut body = json!({ "numberOfResults": st.items.len(), "items": items });
    if offset + size < st.items.len() {
        body["pagination"] = json!({ "nextToken": format!("page-{}", offset + size) });
    }
    Json(body).into_response()
}
