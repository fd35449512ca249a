//! `POST /sell/inventory/v1/bulk_update_price_quantity` (≤ 25 entries, one
//! result per SKU or offer, 200 or 207, the daily revision cap per listing)
//! and `GET /sell/inventory/v1/inventory_item` (`offset` is a page number
//! here [spec], with `next` links).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{EbaySim, REQUEST_LOG_MAX, errors, origin};

/// Milliseconds in a UTC day: the simulator's revision counts restart each day.
pub(super) const DAY_MS: i64 = 86_400_000;
/// Entries per call [spec] and revisions per listing per day [spec].
const REQUESTS_MAX: usize = 25;
const REVISIONS_PER_DAY: u32 = 250;
/// `getInventoryItems` page size: default 25, at most 200 [spec].
const ITEMS_LIMIT_DEFAULT: usize = 25;
const ITEMS_LIMIT_MAX: usize = 200;
const DOMAIN: &str = "API_INVENTORY";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BulkRequest {
    requests: Vec<PriceQuantity>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriceQuantity {
    sku: String,
    ship_to_location_availability: Option<ShipTo>,
    #[serde(default)]
    offers: Vec<OfferQuantity>,
}

#[derive(Debug, Deserialize)]
struct ShipTo {
    quantity: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OfferQuantity {
    offer_id: String,
    available_quantity: Option<i64>,
}

fn user_error(error_id: u32, message: &str) -> Value {
    json!({ "errorId": error_id, "domain": DOMAIN, "category": "REQUEST", "message": message })
}

pub(super) async fn bulk_update(State(sim): State<EbaySim>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(denied) = sim.denied(&headers) {
        return denied;
    }
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_body {
        return errors(StatusCode::UNSUPPORTED_MEDIA_TYPE, 25709, DOMAIN, "Invalid value for Content-Type.", None);
    }
    let raw: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let request: BulkRequest = match serde_json::from_value(raw.clone()) {
        Ok(r) => r,
        Err(e) => {
            return errors(StatusCode::BAD_REQUEST, 25709, DOMAIN, &format!("Invalid value for requests. {e}"), None);
        }
    };
    if request.requests.is_empty() || request.requests.len() > REQUESTS_MAX {
        let message = format!("Invalid value for requests. Between 1 and {REQUESTS_MAX} are allowed.");
        return errors(StatusCode::BAD_REQUEST, 25709, DOMAIN, &message, None);
    }
    let today = crate::clock::system_now().millis().div_euclid(DAY_MS);
    let responses: Vec<Value> = {
        let mut st = sim.lock();
        st.bulk_calls += 1;
        st.bulk_requests.push_back(raw);
        if st.bulk_requests.len() > REQUEST_LOG_MAX {
            st.bulk_requests.pop_front();
        }
        request.requests.into_iter().flat_map(|pq| apply(&mut st.items, pq, today)).collect()
    };
    if sim.faults.roll(|f| f.lose_answer) {
        return errors(StatusCode::INTERNAL_SERVER_ERROR, 25001, DOMAIN, "A system error has occurred.", None);
    }
    let all_ok = responses.iter().all(|r| r["statusCode"] == 200);
    let status = if all_ok { StatusCode::OK } else { StatusCode::MULTI_STATUS };
    (status, Json(json!({ "responses": responses }))).into_response()
}

/// Applies one entry: results for the SKU, or one per offer when offers are given.
fn apply(items: &mut std::collections::BTreeMap<String, super::SimItem>, pq: PriceQuantity, today: i64) -> Vec<Value> {
    let result = |status: u16, offer_id: Option<&str>, error: Option<Value>| {
        let mut r = json!({ "sku": pq.sku, "statusCode": status });
        if let Some(id) = offer_id {
            r["offerId"] = json!(id);
        }
        if let Some(e) = error {
            r["errors"] = json!([e]);
        }
        r
    };
    let Some(item) = items.get_mut(&pq.sku) else {
        let e = user_error(25710, "We didn't find the resource/entity you are requesting.");
        return vec![result(404, None, Some(e))];
    };
    if item.revision_day != today {
        item.revision_day = today;
        item.revisions = 0;
    }
    if item.revisions >= REVISIONS_PER_DAY {
        let e = user_error(25002, "Any User error. This listing has reached its 250 revisions for today.");
        return vec![result(400, None, Some(e))];
    }
    let quantity = pq
        .ship_to_location_availability
        .and_then(|s| s.quantity)
        .or_else(|| pq.offers.iter().find_map(|o| o.available_quantity));
    let Some(quantity) = quantity.filter(|q| *q >= 0) else {
        return vec![result(400, None, Some(user_error(25709, "Invalid value for quantity.")))];
    };
    let unknown: Vec<&str> =
        pq.offers.iter().map(|o| o.offer_id.as_str()).filter(|id| !item.offer_ids.iter().any(|x| x == id)).collect();
    if !unknown.is_empty() {
        let e = user_error(25713, "This Offer is not available.");
        return unknown.into_iter().map(|id| result(404, Some(id), Some(e.clone()))).collect();
    }
    item.quantity = quantity;
    item.set_at_ms = crate::clock::system_now().millis();
    item.revisions += 1;
    if pq.offers.is_empty() {
        vec![result(200, None, None)]
    } else {
        pq.offers.iter().map(|o| result(200, Some(&o.offer_id), None)).collect()
    }
}

pub(super) async fn get_items(
    State(sim): State<EbaySim>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(denied) = sim.denied(&headers) {
        return denied;
    }
    let limit = match q.get("limit").map(|l| l.parse::<usize>()) {
        None => ITEMS_LIMIT_DEFAULT,
        Some(Ok(l)) if (1..=ITEMS_LIMIT_MAX).contains(&l) => l,
        Some(_) => {
            return errors(
                StatusCode::BAD_REQUEST,
                25706,
                DOMAIN,
                "You have provided invalid pagination values.",
                None,
            );
        }
    };
    let Ok(page) = q.get("offset").map_or(Ok(0), |o| o.parse::<usize>()) else {
        return errors(StatusCode::BAD_REQUEST, 25706, DOMAIN, "You have provided invalid pagination values.", None);
    };
    let (total, items): (usize, Vec<Value>) = {
        let st = sim.lock();
        let items = st.items.iter().skip(page.saturating_mul(limit)).take(limit);
        let items = items
            .map(|(sku, item)| {
                json!({
                    "sku": sku,
                    "locale": "en_US",
                    "condition": "NEW",
                    "availability": { "shipToLocationAvailability": { "quantity": item.quantity } },
                })
            })
            .collect();
        (st.items.len(), items)
    };
    let link =
        |page: usize| format!("{}/sell/inventory/v1/inventory_item?limit={limit}&offset={page}", origin(&headers));
    let mut body =
        json!({ "href": link(page), "limit": limit, "size": items.len(), "total": total, "inventoryItems": items });
    if (page + 1).saturating_mul(limit) < total {
        body["next"] = json!(link(page + 1));
    }
    if page > 0 {
        body["prev"] = json!(link(page - 1));
    }
    Json(body).into_response()
}
