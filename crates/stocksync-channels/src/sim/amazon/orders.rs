//! Orders v0: `GET /orders/v0/orders` (required `MarketplaceIds`;
//! `LastUpdatedAfter`, and `LastUpdatedBefore` at least two minutes before
//! now; `MaxResultsPerPage` 1–100; opaque `NextToken`) and
//! `GET /orders/v0/orders/{orderId}/orderItems`. Faults: a page served twice
//! (the previous page's orders under the requested token) and orders
//! shuffled within a page.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use stocksync_core::Timestamp;

use super::{AmazonSim, error};
use crate::sim::book::BookOrder;

/// `LastUpdatedBefore` must be at least this far behind now [spec].
const BEFORE_LAG_MS: i64 = 2 * 60_000;
const PAGE_SIZE_MAX: usize = 100;

/// `902-1000007-2000007`: Amazon's 3-7-7 order ids, from the book's number.
pub(super) fn order_id(n: u64) -> String {
    format!("{:03}-{:07}-{:07}", 900 + n % 100, 1_000_000 + n, 2_000_000 + n)
}

pub(super) fn order_number(id: &str) -> Option<u64> {
    id.split('-').nth(2)?.parse::<u64>().ok()?.checked_sub(2_000_000)
}

/// Amazon's whole-second ISO 8601 times.
fn iso(ms: i64) -> String {
    let t = Timestamp(ms.div_euclid(1000) * 1000).to_string();
    format!("{}Z", t.get(..19).unwrap_or(&t))
}

fn invalid(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "InvalidInput", message, "")
}

/// A query time, or the name of the parameter that is not one.
fn time<'a>(q: &HashMap<String, String>, name: &'a str) -> Result<Option<i64>, &'a str> {
    match q.get(name) {
        None => Ok(None),
        Some(raw) => Timestamp::parse_rfc3339(name, raw).map(|t| Some(t.millis())).map_err(|_| name),
    }
}

/// The window and page a `NextToken` stands for: `after:before:offset`, base64.
fn token(after: i64, before: i64, offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{after}:{before}:{offset}"))
}

fn untoken(raw: &str) -> Option<(i64, i64, usize)> {
    let text = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(raw).ok()?).ok()?;
    let mut parts = text.split(':');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

pub(super) async fn get_orders(
    State(sim): State<AmazonSim>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = sim.admit("getOrders", &headers) {
        return refused;
    }
    let marketplaces = q.get("MarketplaceIds").map(String::as_str).unwrap_or_default();
    if !marketplaces.split(',').any(|m| m == sim.account.marketplace_id) {
        return invalid("MarketplaceIds must name the seller's marketplace");
    }
    let size = match q.get("MaxResultsPerPage").map(|v| v.parse::<usize>()) {
        None => PAGE_SIZE_MAX,
        Some(Ok(n)) if (1..=PAGE_SIZE_MAX).contains(&n) => n,
        Some(_) => return invalid("MaxResultsPerPage must be between 1 and 100"),
    };
    let now = sim.lock().clock.now().millis();
    let (after, before, offset) = match q.get("NextToken") {
        Some(t) => match untoken(t) {
            Some(window) => window,
            None => return invalid("Invalid NextToken"),
        },
        None => {
            let (after, before) = match (time(&q, "LastUpdatedAfter"), time(&q, "LastUpdatedBefore")) {
                (Ok(Some(a)), Ok(b)) => (a, b),
                (Ok(None), _) => return invalid("Either CreatedAfter or LastUpdatedAfter must be specified"),
                (Err(name), _) | (_, Err(name)) => return invalid(&format!("{name} is not a valid ISO 8601 date")),
            };
            let latest = now - BEFORE_LAG_MS;
            if before.is_some_and(|b| b < after || b > latest) {
                return invalid("LastUpdatedBefore must be after LastUpdatedAfter and at least two minutes before now");
            }
            (after, before.unwrap_or(latest), 0)
        }
    };
    // Whole-second times, compared as Amazon shows them.
    let matching: Vec<BookOrder> = sim.lock().book.modified_between(after, before.saturating_add(999));
    let matching: Vec<BookOrder> =
        matching.into_iter().filter(|o| (after..=before).contains(&(o.modified_ms.div_euclid(1000) * 1000))).collect();
    let mut start = offset.min(matching.len());
    if offset >= size && sim.faults.roll(|f| f.duplicate_pages) {
        start = offset - size;
        sim.lock().stats.pages_duplicated += 1;
    }
    let mut page: Vec<Value> = matching.iter().skip(start).take(size).map(|o| order_json(&sim, o)).collect();
    if sim.faults.roll(|f| f.shuffle_pages) {
        sim.faults.shuffle(&mut page);
    }
    let mut payload = json!({ "Orders": page, "LastUpdatedBefore": iso(before) });
    if offset + size < matching.len() {
        payload["NextToken"] = json!(token(after, before, offset + size));
    }
    Json(json!({ "payload": payload })).into_response()
}

fn order_json(sim: &AmazonSim, o: &BookOrder) -> Value {
    let status = if o.cancelled_ms.is_some() {
        "Canceled"
    } else if o.shipped {
        "Shipped"
    } else {
        "Unshipped"
    };
    let units: u32 = o.lines.iter().map(|l| l.current).sum();
    let (shipped, unshipped) = if o.shipped { (units, 0) } else { (0, units) };
    json!({
        "AmazonOrderId": order_id(o.id),
        "PurchaseDate": iso(o.created_ms),
        "LastUpdateDate": iso(o.modified_ms),
        "OrderStatus": status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com",
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": unshipped,
        "MarketplaceId": sim.account.marketplace_id,
        "OrderType": "StandardOrder",
        "IsBusinessOrder": false,
        "IsPrime": false,
        "IsPremiumOrder": false,
        "IsReplacementOrder": false,
        "IsSoldByAB": false,
    })
}

pub(super) async fn get_order_items(
    State(sim): State<AmazonSim>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = sim.admit("getOrderItems", &headers) {
        return refused;
    }
    let order = order_number(&id).and_then(|n| sim.lock().book.orders.get(&n).cloned());
    let Some(order) = order else {
        return error(StatusCode::NOT_FOUND, "InvalidInput", &format!("Invalid AmazonOrderId: {id}"), "");
    };
    let items: Vec<Value> = order
        .lines
        .iter()
        .map(|l| {
            let mut item = json!({
                "ASIN": format!("B0SIM{:05}", l.id),
                "SellerSKU": l.sku,
                "OrderItemId": format!("{:014}", 10_000_000_000_u64 + l.id),
                "Title": format!("Simulated item {}", l.sku),
                "QuantityOrdered": l.current,
                "QuantityShipped": if order.shipped { l.current } else { 0 },
            });
            if order.cancelled_ms.is_some() {
                item["BuyerRequestedCancel"] =
                    json!({ "IsBuyerRequestedCancel": "true", "BuyerCancelReason": "Changed my mind" });
            }
            item
        })
        .collect();
    Json(json!({ "payload": { "OrderItems": items, "AmazonOrderId": id } })).into_response()
}
