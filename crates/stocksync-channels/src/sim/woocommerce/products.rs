//! Products and variations: `GET /products` and `GET
//! /products/{parent}/variations` (numbered pages), and their batch
//! endpoints, `update: [{id, stock_quantity, manage_stock}]`, at most 100
//! per call (413 beyond), answered with the saved object or `{id, error}`
//! per item, in the request's order.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{REQUEST_LOG_MAX, SimProduct, WooSim, wp_error};

/// Objects one batch call may carry [doc].
const BATCH_MAX: usize = 100;
const PER_PAGE_DEFAULT: usize = 10;
const PER_PAGE_MAX: usize = 100;

#[derive(Debug, Deserialize)]
struct Batch {
    #[serde(default)]
    update: Vec<Value>,
}

fn product_json(id: u64, p: &SimProduct) -> Value {
    let stock_status = match p.quantity {
        Some(q) if q <= 0 => "outofstock",
        _ => "instock",
    };
    let mut v = json!({
        "id": id, "name": format!("Simulated {}", p.sku), "sku": p.sku, "price": "10.00", "regular_price": "10.00",
        "manage_stock": p.quantity.is_some(), "stock_quantity": p.quantity, "stock_status": stock_status,
    });
    if p.kind == "variation" {
        v["parent_id"] = json!(p.parent);
    } else {
        v["type"] = json!(p.kind);
    }
    v
}

pub(super) async fn list(
    State(sim): State<WooSim>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    page_of(&sim, &headers, &q, |p| p.kind != "variation")
}

pub(super) async fn list_variations(
    State(sim): State<WooSim>,
    Path(parent): Path<u64>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    page_of(&sim, &headers, &q, |p| p.parent == Some(parent))
}

fn page_of(
    sim: &WooSim,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    keep: impl Fn(&SimProduct) -> bool,
) -> Response {
    if let Some(denied) = sim.denied(headers) {
        return denied;
    }
    let per_page = q.get("per_page").and_then(|v| v.parse::<usize>().ok()).unwrap_or(PER_PAGE_DEFAULT);
    let page = q.get("page").and_then(|v| v.parse::<usize>().ok()).unwrap_or(1);
    if !(1..=PER_PAGE_MAX).contains(&per_page) || page == 0 {
        return wp_error(StatusCode::BAD_REQUEST, "rest_invalid_param", "Invalid parameter(s): per_page, page");
    }
    let st = sim.lock();
    let all: Vec<Value> = st.products.iter().filter(|(_, p)| keep(p)).map(|(id, p)| product_json(*id, p)).collect();
    let body: Vec<Value> = all.iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
    let mut res = Json(body).into_response();
    res.headers_mut().insert("x-wp-total", HeaderValue::from(all.len() as u64));
    res.headers_mut().insert("x-wp-totalpages", HeaderValue::from(all.len().div_ceil(per_page) as u64));
    res
}

pub(super) async fn batch(State(sim): State<WooSim>, headers: HeaderMap, body: Bytes) -> Response {
    apply_batch(&sim, &headers, &body, None)
}

pub(super) async fn batch_variations(
    State(sim): State<WooSim>,
    Path(parent): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    apply_batch(&sim, &headers, &body, Some(parent))
}

fn apply_batch(sim: &WooSim, headers: &HeaderMap, body: &[u8], parent: Option<u64>) -> Response {
    if let Some(denied) = sim.denied(headers) {
        return denied;
    }
    let raw: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let Ok(batch) = serde_json::from_value::<Batch>(raw.clone()) else {
        return wp_error(StatusCode::BAD_REQUEST, "rest_invalid_json", "The JSON body passed is not valid.");
    };
    if batch.update.len() > BATCH_MAX {
        let message = format!("Unable to accept more than {BATCH_MAX} items for this request.");
        return wp_error(StatusCode::PAYLOAD_TOO_LARGE, "rest_request_entity_too_large", &message);
    }
    if parent.is_some_and(|p| sim.lock().products.get(&p).is_none_or(|x| x.kind != "variable")) {
        return wp_error(StatusCode::NOT_FOUND, "woocommerce_rest_product_invalid_id", "Invalid ID.");
    }
    let now = crate::clock::system_now().millis();
    let answers: Vec<Value> = {
        let mut st = sim.lock();
        st.stats.batch_calls += 1;
        st.batch_requests.push_back(raw);
        if st.batch_requests.len() > REQUEST_LOG_MAX {
            st.batch_requests.pop_front();
        }
        batch.update.iter().map(|u| update_one(&mut st.products, u, parent, now)).collect()
    };
    if sim.faults.roll(|f| f.lose_answer) {
        return wp_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_server_error",
            "There has been a critical error.",
        );
    }
    Json(json!({ "update": answers })).into_response()
}

fn update_one(
    products: &mut std::collections::BTreeMap<u64, SimProduct>,
    u: &Value,
    parent: Option<u64>,
    now: i64,
) -> Value {
    let id = u["id"].as_u64().unwrap_or(0);
    let item_error = |code: &str, message: &str, status: u16| json!({ "id": id, "error": { "code": code, "message": message, "data": { "status": status } } });
    let (invalid_code, kind) = match parent {
        Some(_) => ("woocommerce_rest_product_variation_invalid_id", "variation"),
        None => ("woocommerce_rest_product_invalid_id", "simple"),
    };
    let Some(p) = products.get_mut(&id).filter(|p| p.kind == kind && p.parent == parent) else {
        return item_error(invalid_code, "Invalid ID.", 400);
    };
    if let Some(q) = u.get("stock_quantity") {
        let Some(q) = q.as_i64() else {
            return item_error("rest_invalid_param", "Invalid parameter(s): stock_quantity", 400);
        };
        p.quantity = Some(q);
        p.sets += 1;
        p.set_at_ms = now;
    }
    product_json(id, p)
}
