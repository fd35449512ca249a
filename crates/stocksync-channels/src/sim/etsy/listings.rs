//! Listing inventories: `GET /v3/application/listings/{listing_id}/inventory`
//! in the GET shape (`product_id`, `offering_id`, `is_deleted`,
//! `scale_name`, prices as Money), `PUT` of the same path taking only the
//! writable keys (400 "Array contains invalid keys: …" otherwise, prices as
//! numbers, quantities 0–999), and `GET /v3/application/shops/{shop_id}/listings`
//! with `includes=Inventory`.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{EtsySim, REQUEST_LOG_MAX, SimListing, error};

/// The most an offering may hold [doc].
const QUANTITY_MAX: i64 = 999;
/// The color property, when a listing has variations.
const COLOR_PROPERTY: u64 = 200;
const LIMIT_MAX: usize = 100;
/// Writable keys per level [spec: updateListingInventory request body].
const TOP_KEYS: [&str; 5] =
    ["products", "price_on_property", "quantity_on_property", "sku_on_property", "readiness_state_on_property"];
const PRODUCT_KEYS: [&str; 3] = ["sku", "property_values", "offerings"];
const PROPERTY_KEYS: [&str; 5] = ["property_id", "value_ids", "scale_id", "property_name", "values"];
const OFFERING_KEYS: [&str; 4] = ["price", "quantity", "is_enabled", "readiness_state_id"];

fn inventory_json(l: &SimListing) -> Value {
    let varied = l.products.len() > 1 || l.products.iter().any(|p| p.color.is_some());
    let products: Vec<Value> = l
        .products
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let properties = match (&p.color, varied) {
                (Some(color), true) => json!([{ "property_id": COLOR_PROPERTY, "property_name": "Color",
                    "scale_id": null, "scale_name": null, "value_ids": [i as u64 + 1], "values": [color] }]),
                _ => json!([]),
            };
            json!({
                "product_id": p.product_id, "sku": p.sku, "is_deleted": false,
                "offerings": [{ "offering_id": p.offering_id, "quantity": p.quantity, "is_enabled": true,
                    "is_deleted": false, "price": { "amount": 1250, "divisor": 100, "currency_code": "USD" },
                    "readiness_state_id": 1_000_001 }],
                "property_values": properties,
            })
        })
        .collect();
    let on_property = if varied { json!([COLOR_PROPERTY]) } else { json!([]) };
    json!({ "products": products, "price_on_property": [], "quantity_on_property": on_property,
        "sku_on_property": on_property, "readiness_state_on_property": [] })
}

pub(super) async fn read(State(sim): State<EtsySim>, Path(listing_id): Path<u64>) -> Response {
    let mut st = sim.lock();
    st.stats.inventory_reads += 1;
    match st.listings.get(&listing_id) {
        Some(l) => Json(inventory_json(l)).into_response(),
        None => error(StatusCode::NOT_FOUND, &format!("Listing {listing_id} not found")),
    }
}

/// The first key of `v` not in `allowed`.
fn extra_key<'a>(v: &'a Value, allowed: &[&str]) -> Option<&'a str> {
    v.as_object()?.keys().map(String::as_str).find(|k| !allowed.contains(k))
}

/// The quantities a PUT body sets, by SKU; or Etsy's reason for refusing it.
fn quantities(body: &Value) -> Result<HashMap<String, i64>, String> {
    let invalid = |k: &str| format!("Array contains invalid keys: {k}");
    if let Some(k) = extra_key(body, &TOP_KEYS) {
        return Err(invalid(k));
    }
    let products = body["products"].as_array().ok_or("products is required")?;
    let mut set = HashMap::new();
    for p in products {
        if let Some(k) = extra_key(p, &PRODUCT_KEYS) {
            return Err(invalid(k));
        }
        for pv in p["property_values"].as_array().map(Vec::as_slice).unwrap_or_default() {
            if let Some(k) = extra_key(pv, &PROPERTY_KEYS) {
                return Err(invalid(k));
            }
        }
        let offerings = p["offerings"].as_array().filter(|o| !o.is_empty()).ok_or("offerings is required")?;
        let mut total = 0;
        for o in offerings {
            if let Some(k) = extra_key(o, &OFFERING_KEYS) {
                return Err(invalid(k));
            }
            if !o["price"].is_number() {
                return Err("price must be a number".into());
            }
            let q = o["quantity"].as_i64().filter(|q| (0..=QUANTITY_MAX).contains(q));
            total += q.ok_or_else(|| format!("quantity must be between 0 and {QUANTITY_MAX}"))?;
        }
        set.insert(p["sku"].as_str().unwrap_or_default().to_owned(), total);
    }
    Ok(set)
}

pub(super) async fn write(State(sim): State<EtsySim>, Path(listing_id): Path<u64>, body: Bytes) -> Response {
    let Ok(raw) = serde_json::from_slice::<Value>(&body) else { return error(StatusCode::BAD_REQUEST, "Invalid JSON") };
    let now = crate::clock::system_now().millis();
    let answer = {
        let mut st = sim.lock();
        st.stats.inventory_writes += 1;
        st.puts.push_back(raw.clone());
        if st.puts.len() > REQUEST_LOG_MAX {
            st.puts.pop_front();
        }
        let set = match quantities(&raw) {
            Ok(set) => set,
            Err(why) => return error(StatusCode::BAD_REQUEST, &why),
        };
        let Some(listing) = st.listings.get_mut(&listing_id) else {
            return error(StatusCode::NOT_FOUND, &format!("Listing {listing_id} not found"));
        };
        if set.len() != listing.products.len() || listing.products.iter().any(|p| !set.contains_key(&p.sku)) {
            return error(StatusCode::BAD_REQUEST, "The products do not match the listing's variations");
        }
        for p in &mut listing.products {
            let q = set[&p.sku];
            if q != p.quantity {
                p.quantity = q;
                p.puts += 1;
                p.set_at_ms = now;
            }
        }
        inventory_json(listing)
    };
    if sim.faults.roll(|f| f.lose_answer) {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
    }
    Json(answer).into_response()
}

pub(super) async fn by_shop(
    State(sim): State<EtsySim>,
    Path(shop_id): Path<u64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if shop_id != sim.shop_id {
        return error(StatusCode::FORBIDDEN, "The shop is not yours");
    }
    let limit = q.get("limit").and_then(|v| v.parse::<usize>().ok()).unwrap_or(25).clamp(1, LIMIT_MAX);
    let offset = q.get("offset").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    let with_inventory = q.get("includes").is_some_and(|i| i.split(',').any(|x| x == "Inventory"));
    let st = sim.lock();
    let results: Vec<Value> = st
        .listings
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(id, l)| {
            let mut v = json!({ "listing_id": id, "shop_id": shop_id, "title": l.title, "state": "active",
                "quantity": l.products.iter().map(|p| p.quantity).sum::<i64>(),
                "has_variations": l.products.len() > 1 });
            if with_inventory {
                v["inventory"] = inventory_json(l);
            }
            v
        })
        .collect();
    Json(json!({ "count": st.listings.len(), "results": results })).into_response()
}
