//! `GET /sell/fulfillment/v1/order`: the `lastmodifieddate` filter, `limit`
//! and zero-based `offset`, answered as an `OrderSearchPagedCollection`.
//! Faults: a page served twice (the previous page's orders under the
//! requested offset, as when the result set shifts mid-poll) and orders
//! shuffled within a page.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use stocksync_core::Timestamp;

use super::{EbaySim, SimOrder, errors, origin};

/// `limit` when none is given, and the most allowed [spec].
const LIMIT_DEFAULT: usize = 50;
const LIMIT_MAX: usize = 200;
const DOMAIN: &str = "API_FULFILLMENT";

pub(super) async fn get_orders(
    State(sim): State<EbaySim>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(denied) = sim.denied(&headers) {
        return denied;
    }
    let (from, to) = match q.get("filter").map(|f| parse_filter(f)).transpose() {
        Ok(range) => range.unwrap_or((i64::MIN, i64::MAX)),
        Err((error_id, message)) => return bad(error_id, message),
    };
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => LIMIT_DEFAULT,
        Some(Ok(l)) if (1..=LIMIT_MAX).contains(&l) => l,
        Some(_) => return bad(31100, "Invalid limit"),
    };
    let Ok(offset) = q.get("offset").map_or(Ok(0), |o| o.parse::<usize>()) else {
        return bad(31000, "Invalid offset");
    };
    let matching: Vec<(String, SimOrder)> = {
        let st = sim.lock();
        st.orders
            .iter()
            .filter(|(_, o)| (from..=to).contains(&o.modified_ms))
            .map(|(id, o)| (id.clone(), o.clone()))
            .collect()
    };
    let total = matching.len();
    let mut start = offset.min(total);
    if offset >= limit && sim.faults.roll(|f| f.duplicate_pages) {
        start = offset - limit;
        sim.lock().pages_duplicated += 1;
    }
    let mut page: Vec<Value> = matching.iter().skip(start).take(limit).map(|(id, o)| order_json(id, o)).collect();
    if sim.faults.roll(|f| f.shuffle_pages) {
        sim.faults.shuffle(&mut page);
    }
    let filter = q.get("filter").cloned().unwrap_or_default();
    let link = |offset: usize| {
        let query = serde_urlencoded::to_string([
            ("filter", filter.clone()),
            ("limit", limit.to_string()),
            ("offset", offset.to_string()),
        ])
        .unwrap_or_default();
        format!("{}/sell/fulfillment/v1/order?{query}", origin(&headers))
    };
    let mut body = json!({ "href": link(offset), "total": total, "limit": limit, "offset": offset, "orders": page });
    if offset + limit < total {
        body["next"] = json!(link(offset + limit));
    }
    if offset > 0 {
        body["prev"] = json!(link(offset.saturating_sub(limit)));
    }
    Json(body).into_response()
}

fn bad(error_id: u32, message: &str) -> Response {
    errors(StatusCode::BAD_REQUEST, error_id, DOMAIN, message, None)
}

/// `lastmodifieddate:[FROM..TO]` or `[FROM..]`, inclusive, in milliseconds;
/// or eBay's error id and message.
fn parse_filter(filter: &str) -> Result<(i64, i64), (u32, &'static str)> {
    const BAD_VALUE: (u32, &str) = (30800, "Invalid filter value");
    const BAD_DATE: (u32, &str) = (30810, "Invalid date format");
    let range = filter.strip_prefix("lastmodifieddate:").ok_or((30700, "Invalid filter name"))?;
    let inner = range.strip_prefix('[').and_then(|r| r.strip_suffix(']')).ok_or(BAD_VALUE)?;
    let (from, to) = inner.split_once("..").ok_or(BAD_VALUE)?;
    let time = |s: &str| Timestamp::parse_rfc3339("lastmodifieddate", s).map(Timestamp::millis).map_err(|_| BAD_DATE);
    let from = time(from)?;
    let to = if to.is_empty() { i64::MAX } else { time(to)? };
    if from > to {
        return Err((30840, "Start date should be before end date"));
    }
    if to != i64::MAX && to > crate::clock::system_now().millis() {
        return Err((30850, "Start and end dates can't be in the future"));
    }
    Ok((from, to))
}

fn order_json(id: &str, o: &SimOrder) -> Value {
    let cancel = match o.cancelled_ms {
        Some(ms) => {
            json!({ "cancelState": "CANCELED", "cancelledDate": Timestamp(ms).to_string(), "cancelRequests": [] })
        }
        None => json!({ "cancelState": "NONE_REQUESTED", "cancelRequests": [] }),
    };
    let fulfilment = if o.fulfilled { "FULFILLED" } else { "NOT_STARTED" };
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            json!({
                "lineItemId": l.id,
                "legacyItemId": format!("1100{}", l.id),
                "sku": l.sku,
                "title": format!("Simulated item {}", l.sku),
                "quantity": l.quantity,
                "lineItemFulfillmentStatus": fulfilment,
                "soldFormat": "FIXED_PRICE",
                "refunds": [],
            })
        })
        .collect();
    json!({
        "orderId": id,
        "creationDate": Timestamp(o.created_ms).to_string(),
        "lastModifiedDate": Timestamp(o.modified_ms).to_string(),
        "orderFulfillmentStatus": fulfilment,
        "orderPaymentStatus": "PAID",
        "sellerId": "stocksync-sim",
        "cancelStatus": cancel,
        "lineItems": lines,
    })
}
