//! `GET /wp-json/wc/v3/orders`: `modified_after`/`modified_before`
//! (exclusive, whole seconds, as WordPress's date queries are), `page`
//! (1-based) and `per_page` (≤ 100), answered as an array of orders with
//! `X-WP-Total`, `X-WP-TotalPages` and `Link`. Faults: a page served twice
//! (the previous page under the requested number) and shuffled pages.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use stocksync_core::Timestamp;

use super::{WooSim, wp_error};
use crate::sim::book::BookOrder;

/// `per_page` when none is given, and the most allowed [doc].
const PER_PAGE_DEFAULT: usize = 10;
const PER_PAGE_MAX: usize = 100;
/// The simulated store's time zone: local times differ from the `_gmt`
/// ones, as on a real store, so a reader must use the right field.
const SITE_OFFSET_MS: i64 = -5 * 3_600_000;

/// `2026-01-01T10:00:00`: WooCommerce's whole-second times without offset.
pub(super) fn wc_time(ms: i64) -> String {
    let text = Timestamp(ms.div_euclid(1000) * 1000).to_string();
    text.get(..19).unwrap_or(&text).to_owned()
}

/// An ISO 8601 query time, with or without an offset (none means UTC here).
fn query_time(raw: &str) -> Option<i64> {
    let text = if raw.ends_with('Z') || raw.get(19..).is_some_and(|t| t.contains(['+', '-'])) {
        raw.to_owned()
    } else {
        format!("{raw}Z")
    };
    Timestamp::parse_rfc3339("date", &text).ok().map(Timestamp::millis)
}

pub(super) async fn list(
    State(sim): State<WooSim>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(denied) = sim.denied(&headers) {
        return denied;
    }
    let invalid =
        |name: &str| wp_error(StatusCode::BAD_REQUEST, "rest_invalid_param", &format!("Invalid parameter(s): {name}"));
    let mut bounds = [i64::MIN, i64::MAX];
    for (i, name) in ["modified_after", "modified_before"].into_iter().enumerate() {
        if let Some(raw) = q.get(name) {
            let Some(ms) = query_time(raw) else { return invalid(name) };
            bounds[i] = ms;
        }
    }
    let per_page = match q.get("per_page").map(|v| v.parse::<usize>()) {
        None => PER_PAGE_DEFAULT,
        Some(Ok(n)) if (1..=PER_PAGE_MAX).contains(&n) => n,
        Some(_) => return invalid("per_page"),
    };
    let page = match q.get("page").map(|v| v.parse::<usize>()) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return invalid("page"),
    };
    let matching: Vec<BookOrder> = {
        let st = sim.lock();
        let mut all: Vec<BookOrder> = st
            .book
            .orders
            .values()
            .filter(|o| {
                let modified = o.modified_ms.div_euclid(1000) * 1000;
                modified > bounds[0] && modified < bounds[1]
            })
            .cloned()
            .collect();
        all.sort_by_key(|o| o.id);
        all
    };
    let total = matching.len();
    let pages = total.div_ceil(per_page);
    let mut served = page;
    if page > 1 && sim.faults.roll(|f| f.duplicate_pages) {
        served = page - 1;
        sim.lock().stats.pages_duplicated += 1;
    }
    let mut body: Vec<Value> =
        matching.iter().skip((served - 1).saturating_mul(per_page)).take(per_page).map(order_json).collect();
    if sim.faults.roll(|f| f.shuffle_pages) {
        sim.faults.shuffle(&mut body);
    }
    let mut res = Json(body).into_response();
    let h = res.headers_mut();
    for (name, value) in [("x-wp-total", total), ("x-wp-totalpages", pages)] {
        h.insert(name, HeaderValue::from(value as u64));
    }
    if page < pages
        && let Ok(link) = HeaderValue::from_str(&format!("</wp-json/wc/v3/orders?page={}>; rel=\"next\"", page + 1))
    {
        h.insert("link", link);
    }
    res
}

/// An order as the REST API (and its webhooks) render it.
pub(super) fn order_json(o: &BookOrder) -> Value {
    let status = if o.cancelled_ms.is_some() {
        "cancelled"
    } else if o.shipped {
        "completed"
    } else {
        "processing"
    };
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            let total = format!("{}.00", 10 * l.current);
            json!({
                "id": l.id, "name": format!("Simulated item {}", l.sku), "product_id": 100 + l.id, "variation_id": 0,
                "quantity": l.current, "tax_class": "", "subtotal": total, "subtotal_tax": "0.00", "total": total,
                "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": l.sku, "price": 10,
            })
        })
        .collect();
    let completed = (o.shipped && o.cancelled_ms.is_none()).then_some(o.modified_ms);
    json!({
        "id": o.id,
        "parent_id": 0,
        "number": o.id.to_string(),
        "order_key": format!("wc_order_sim{:08}", o.id),
        "created_via": "checkout",
        "version": "9.4.0",
        "status": status,
        "currency": "USD",
        "date_created": wc_time(o.created_ms + SITE_OFFSET_MS),
        "date_created_gmt": wc_time(o.created_ms),
        "date_modified": wc_time(o.modified_ms + SITE_OFFSET_MS),
        "date_modified_gmt": wc_time(o.modified_ms),
        "date_completed": completed.map(|ms| wc_time(ms + SITE_OFFSET_MS)),
        "date_completed_gmt": completed.map(wc_time),
        "customer_id": 0,
        "total": format!("{}.00", 10 * o.lines.iter().map(|l| l.current).sum::<u32>()),
        "line_items": lines,
        "meta_data": [],
        "refunds": [],
    })
}
