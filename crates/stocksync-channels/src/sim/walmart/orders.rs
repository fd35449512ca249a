//! `GET /v3/orders`: `lastModifiedStartDate`/`lastModifiedEndDate`
//! (inclusive), `limit` ≤ 200, and the cursor Walmart hands back in
//! `meta.nextCursor`: a query string (`?limit=…&hasMoreElements=true&soIndex=…`)
//! carrying the window and the next offset. Order lines carry per-line
//! statuses; units removed from a line are a `Cancelled` status. Faults: a
//! page served twice (the previous page under the requested cursor) and
//! orders shuffled within a page.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use stocksync_core::Timestamp;

use super::{WalmartSim, error, stamp};
use crate::sim::book::{BookLine, BookOrder};

const LIMIT_DEFAULT: usize = 100;
const LIMIT_MAX: usize = 200;

/// `108829120000001`: Walmart's 15-digit purchase order ids, from the book's number.
pub(super) fn purchase_order_id(n: u64) -> String {
    (108_829_120_000_000 + n).to_string()
}

pub(super) fn order_number(id: &str) -> Option<u64> {
    id.parse::<u64>().ok()?.checked_sub(108_829_120_000_000)
}

fn bad(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_PARAM.GMP_ORDER_API", message)
}

pub(super) async fn list(
    State(sim): State<WalmartSim>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (left, refills_at) = match sim.admit("orders", &headers) {
        Ok(grant) => grant,
        Err(refused) => return *refused,
    };
    let time = |name: &str| -> Result<Option<i64>, String> {
        q.get(name)
            .map(|raw| Timestamp::parse_rfc3339(name, raw).map(Timestamp::millis))
            .transpose()
            .map_err(|_| format!("{name} is not an ISO 8601 time"))
    };
    let (from, to) = match (time("lastModifiedStartDate"), time("lastModifiedEndDate")) {
        (Ok(f), Ok(t)) => (f.unwrap_or(i64::MIN), t.unwrap_or(i64::MAX)),
        (Err(e), _) | (_, Err(e)) => return bad(&e),
    };
    let limit = match q.get("limit").map(|v| v.parse::<usize>()) {
        None => LIMIT_DEFAULT,
        Some(Ok(n)) if (1..=LIMIT_MAX).contains(&n) => n,
        Some(_) => return bad("limit must be between 1 and 200"),
    };
    let Ok(offset) = q.get("soIndex").map_or(Ok(0), |v| v.parse::<usize>()) else { return bad("Invalid soIndex") };
    let matching = sim.lock().book.modified_between(from, to);
    let mut start = offset.min(matching.len());
    if offset >= limit && sim.faults.roll(|f| f.duplicate_pages) {
        start = offset - limit;
        sim.lock().stats.pages_duplicated += 1;
    }
    let mut page: Vec<Value> = matching.iter().skip(start).take(limit).map(order_json).collect();
    if sim.faults.roll(|f| f.shuffle_pages) {
        sim.faults.shuffle(&mut page);
    }
    let mut meta = json!({ "totalCount": matching.len(), "limit": limit });
    if offset + limit < matching.len() {
        let mut cursor = vec![
            ("limit", limit.to_string()),
            ("hasMoreElements", "true".into()),
            ("soIndex", (offset + limit).to_string()),
            ("poIndex", (offset + limit).to_string()),
        ];
        for name in ["lastModifiedStartDate", "lastModifiedEndDate"] {
            if let Some(v) = q.get(name) {
                cursor.push((name, v.clone()));
            }
        }
        meta["nextCursor"] = json!(format!("?{}", serde_urlencoded::to_string(cursor).unwrap_or_default()));
    }
    let body = json!({ "list": { "meta": meta, "elements": { "order": page } } });
    stamp(Json(body).into_response(), left, refills_at)
}

fn quantity(n: u32) -> Value {
    json!({ "unitOfMeasurement": "EACH", "amount": n.to_string() })
}

fn line_json(o: &BookOrder, l: &BookLine) -> Value {
    let mut statuses = Vec::new();
    let cancelled = if o.cancelled_ms.is_some() { l.ordered } else { l.removed() };
    let left = l.ordered - cancelled;
    if left > 0 {
        let status = if o.shipped { "Shipped" } else { "Acknowledged" };
        statuses.push(json!({ "status": status, "statusQuantity": quantity(left) }));
    }
    if cancelled > 0 {
        statuses.push(json!({ "status": "Cancelled", "statusQuantity": quantity(cancelled),
            "cancellationReason": "CUSTOMER_REQUESTED_SELLER_TO_CANCEL" }));
    }
    json!({
        "lineNumber": l.number.to_string(),
        "item": { "productName": format!("Simulated item {}", l.sku), "sku": l.sku },
        "charges": { "charge": [] },
        "orderLineQuantity": quantity(l.ordered),
        "statusDate": o.modified_ms,
        "orderLineStatuses": { "orderLineStatus": statuses },
    })
}

fn order_json(o: &BookOrder) -> Value {
    json!({
        "purchaseOrderId": purchase_order_id(o.id),
        "customerOrderId": (200_000_000_000_u64 + o.id).to_string(),
        "customerEmailId": "buyer@relay.walmart.com",
        "orderDate": o.created_ms,
        "shippingInfo": { "phone": "0000000000", "methodCode": "Standard" },
        "orderLines": { "orderLine": o.lines.iter().map(|l| line_json(o, l)).collect::<Vec<_>>() },
    })
}
