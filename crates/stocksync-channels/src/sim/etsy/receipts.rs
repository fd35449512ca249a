//! `GET /v3/application/shops/{shop_id}/receipts`: `min_last_modified` and
//! `max_last_modified` (unix seconds, inclusive), `limit` 1–100 (default
//! 25), `offset`, `sort_on`/`sort_order`; answered `{count, results}` with
//! each receipt's transactions. Faults: a page served twice (the previous
//! offset's receipts) and receipts shuffled within a page.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{EtsySim, error};
use crate::sim::book::BookOrder;

const LIMIT_DEFAULT: usize = 25;
const LIMIT_MAX: usize = 100;
const SELLER_USER_ID: u64 = 77_000_001;
const BUYER_USER_ID: u64 = 88_000_001;

fn money(cents: u32) -> Value {
    json!({ "amount": cents, "divisor": 100, "currency_code": "USD" })
}

pub(super) async fn list(
    State(sim): State<EtsySim>,
    Path(shop_id): Path<u64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if shop_id != sim.shop_id {
        return error(StatusCode::FORBIDDEN, "The shop is not yours");
    }
    let seconds = |name: &str| q.get(name).map(|v| v.parse::<i64>());
    let (from, to) = match (seconds("min_last_modified"), seconds("max_last_modified")) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => {
            return error(StatusCode::BAD_REQUEST, "Expected int value for 'min_last_modified' or 'max_last_modified'");
        }
        (from, to) => (from.and_then(Result::ok), to.and_then(Result::ok)),
    };
    let limit = match q.get("limit").map(|v| v.parse::<usize>()) {
        None => LIMIT_DEFAULT,
        Some(Ok(n)) if (1..=LIMIT_MAX).contains(&n) => n,
        Some(_) => return error(StatusCode::BAD_REQUEST, "limit must be between 1 and 100"),
    };
    let Ok(offset) = q.get("offset").map_or(Ok(0), |v| v.parse::<usize>()) else {
        return error(StatusCode::BAD_REQUEST, "Expected int value for 'offset'");
    };
    let (matching, skus): (Vec<BookOrder>, HashMap<String, u64>) = {
        let st = sim.lock();
        let from_ms = from.map_or(i64::MIN, |s| s * 1000);
        let to_ms = to.map_or(i64::MAX, |s| s * 1000 + 999);
        let mut m = st.book.modified_between(from_ms, to_ms);
        if q.get("sort_order").map(String::as_str) == Some("desc") {
            m.reverse();
        }
        let skus =
            st.listings.iter().flat_map(|(id, l)| l.products.iter().map(move |p| (p.sku.clone(), *id))).collect();
        (m, skus)
    };
    let mut start = offset.min(matching.len());
    if offset >= limit && sim.faults.roll(|f| f.duplicate_pages) {
        start = offset - limit;
        sim.lock().stats.pages_duplicated += 1;
    }
    let mut results: Vec<Value> = matching.iter().skip(start).take(limit).map(|o| receipt(o, &skus)).collect();
    if sim.faults.roll(|f| f.shuffle_pages) {
        sim.faults.shuffle(&mut results);
    }
    Json(json!({ "count": matching.len(), "results": results })).into_response()
}

fn receipt(o: &BookOrder, skus: &HashMap<String, u64>) -> Value {
    let status = if o.cancelled_ms.is_some() {
        "canceled"
    } else if o.shipped {
        "completed"
    } else {
        "paid"
    };
    let (created, updated) = (o.created_ms.div_euclid(1000), o.modified_ms.div_euclid(1000));
    let transactions: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            json!({
                "transaction_id": 5_000_000_000_u64 + l.id, "title": format!("Simulated {}", l.sku),
                "seller_user_id": SELLER_USER_ID, "buyer_user_id": BUYER_USER_ID,
                "create_timestamp": created, "created_timestamp": created,
                "quantity": l.current, "receipt_id": o.id, "is_digital": false, "transaction_type": "listing",
                "listing_id": skus.get(&l.sku).copied().unwrap_or(1), "product_id": 3_000_000_000_u64 + l.id,
                "sku": l.sku, "price": money(1250), "shipping_cost": money(0), "variations": [],
            })
        })
        .collect();
    let total: u32 = o.lines.iter().map(|l| l.current * 1250).sum();
    json!({
        "receipt_id": o.id, "receipt_type": 0, "seller_user_id": SELLER_USER_ID, "buyer_user_id": BUYER_USER_ID,
        "status": status, "is_paid": true, "is_shipped": o.shipped && o.cancelled_ms.is_none(),
        "create_timestamp": created, "created_timestamp": created,
        "update_timestamp": updated, "updated_timestamp": updated,
        "is_gift": false, "grandtotal": money(total), "subtotal": money(total), "total_price": money(total),
        "transactions": transactions, "refunds": [], "shipments": [],
    })
}
