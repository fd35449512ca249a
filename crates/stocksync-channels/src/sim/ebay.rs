//! A simulated eBay seller account: the Sell Fulfillment `getOrders` and the
//! Sell Inventory `bulkUpdatePriceQuantity` and `getInventoryItems` calls,
//! with the official field names and paging, a bearer token check (401 with
//! eBay's `errors[]`), the fault menu (429 with `errors[]` and `Retry-After`,
//! 500, slow, duplicated and shuffled pages, answers lost after the change),
//! and control routes: `POST /_sim/orders`, `POST /_sim/items`,
//! `GET /_sim/state`, `/_sim/faults`.

mod inventory;
mod orders;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::control::{ControlError, ModClock, OrderAck, OrderChange};
use super::faults::{self, Drawn, FaultInjector, Faults};

/// Connector request bodies kept for the contract tests; older ones are dropped.
const REQUEST_LOG_MAX: usize = 100;

#[derive(Debug, Clone)]
pub struct EbaySim {
    token: String,
    state: Arc<Mutex<EbayState>>,
    pub faults: FaultInjector,
}

#[derive(Debug, Default)]
struct EbayState {
    orders: BTreeMap<String, SimOrder>,
    items: BTreeMap<String, SimItem>,
    clock: ModClock,
    next_order: u64,
    next_line: u64,
    /// `bulkUpdatePriceQuantity` bodies as received, newest last.
    bulk_requests: VecDeque<serde_json::Value>,
    bulk_calls: u64,
    pages_duplicated: u64,
}

#[derive(Debug, Clone)]
struct SimOrder {
    created_ms: i64,
    modified_ms: i64,
    cancelled_ms: Option<i64>,
    fulfilled: bool,
    lines: Vec<SimLine>,
}

#[derive(Debug, Clone)]
struct SimLine {
    id: String,
    sku: String,
    quantity: u32,
}

#[derive(Debug, Clone, Default)]
struct SimItem {
    quantity: i64,
    /// When the quantity was last set, in ms since the epoch (latency benches).
    set_at_ms: i64,
    offer_ids: Vec<String>,
    /// UTC day (days since the epoch) that `revisions` counts.
    revision_day: i64,
    revisions: u32,
}

/// `GET /_sim/state`: listing quantities and today's revision counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EbayView {
    pub listings: BTreeMap<String, ListingView>,
    pub orders: usize,
    pub bulk_calls: u64,
    /// Order pages served in place of the next one (the `duplicate_pages` fault).
    pub pages_duplicated: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingView {
    pub quantity: i64,
    /// When the quantity was last set, in ms since the epoch (0: never).
    #[serde(default)]
    pub set_at_ms: i64,
    pub revisions_today: u32,
    pub offer_ids: Vec<String>,
}

/// `POST /_sim/items`: adds or resets an inventory item (and its offers).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSeed {
    pub sku: String,
    pub quantity: i64,
    #[serde(default)]
    pub offer_ids: Vec<String>,
}

impl EbaySim {
    pub fn new(token: impl Into<String>, faults: Faults) -> Self {
        Self { token: token.into(), state: Arc::default(), faults: FaultInjector::new(faults) }
    }

    fn lock(&self) -> MutexGuard<'_, EbayState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn add_item(&self, seed: ItemSeed) {
        let item = SimItem { quantity: seed.quantity, offer_ids: seed.offer_ids, ..SimItem::default() };
        self.lock().items.insert(seed.sku, item);
    }

    /// Creates or changes an order (see `OrderChange`).
    pub fn apply(&self, change: OrderChange) -> Result<OrderAck, ControlError> {
        let mut st = self.lock();
        let now = st.clock.tick();
        let id = match change.id {
            Some(id) => id,
            None => {
                st.next_order += 1;
                let id =
                    format!("{:02}-{:05}-{:05}", st.next_order % 100, 10_000 + st.next_order, 20_000 + st.next_order);
                let order = SimOrder {
                    created_ms: now,
                    modified_ms: now,
                    cancelled_ms: None,
                    fulfilled: false,
                    lines: Vec::new(),
                };
                st.orders.insert(id.clone(), order);
                id
            }
        };
        let mut next_line = st.next_line;
        let order = st.orders.get_mut(&id).ok_or_else(|| ControlError(format!("no order {id}")))?;
        for l in change.lines {
            match order.lines.iter_mut().find(|x| x.sku == l.sku) {
                Some(line) => line.quantity = l.quantity,
                None => {
                    next_line += 1;
                    order.lines.push(SimLine {
                        id: (1_000_000 + next_line).to_string(),
                        sku: l.sku,
                        quantity: l.quantity,
                    });
                }
            }
        }
        if change.cancel {
            order.cancelled_ms = Some(now);
        }
        order.fulfilled |= change.ship;
        order.modified_ms = now;
        st.next_line = next_line;
        Ok(OrderAck { id, updated_at_ms: now })
    }

    pub fn view(&self) -> EbayView {
        let st = self.lock();
        let today = crate::clock::system_now().millis().div_euclid(inventory::DAY_MS);
        let listings = st
            .items
            .iter()
            .map(|(sku, item)| {
                let revisions_today = if item.revision_day == today { item.revisions } else { 0 };
                let view = ListingView {
                    quantity: item.quantity,
                    set_at_ms: item.set_at_ms,
                    revisions_today,
                    offer_ids: item.offer_ids.clone(),
                };
                (sku.clone(), view)
            })
            .collect();
        EbayView { listings, orders: st.orders.len(), bulk_calls: st.bulk_calls, pages_duplicated: st.pages_duplicated }
    }

    /// The `bulkUpdatePriceQuantity` bodies received, oldest first.
    pub fn bulk_requests(&self) -> Vec<serde_json::Value> {
        self.lock().bulk_requests.iter().cloned().collect()
    }

    pub fn router(&self) -> Router {
        let control = Router::new()
            .route("/_sim/faults", get(faults::get_faults).post(faults::set_faults))
            .with_state(self.faults.clone());
        Router::new()
            .route("/sell/fulfillment/v1/order", get(orders::get_orders))
            .route("/sell/inventory/v1/bulk_update_price_quantity", post(inventory::bulk_update))
            .route("/sell/inventory/v1/inventory_item", get(inventory::get_items))
            .route("/_sim/orders", post(control_order))
            .route("/_sim/items", post(control_item))
            .route("/_sim/state", get(show))
            .with_state(self.clone())
            .merge(control)
            .layer(middleware::from_fn_with_state(self.faults.clone(), inject))
    }

    /// eBay's 401 answer, unless the bearer token is right.
    fn denied(&self, headers: &HeaderMap) -> Option<Response> {
        let given =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if given == Some(self.token.as_str()) {
            return None;
        }
        let long = "Invalid access token. Check the value of the Authorization HTTP request header.";
        Some(errors(StatusCode::UNAUTHORIZED, 1001, "OAuth", "Invalid access token", Some(long)))
    }
}

/// An eBay error answer: `{"errors":[{errorId, domain, category, message}]}`.
fn errors(status: StatusCode, error_id: u32, domain: &str, message: &str, long: Option<&str>) -> Response {
    let mut e = json!({ "errorId": error_id, "domain": domain, "category": "REQUEST", "message": message });
    if let Some(long) = long {
        e["longMessage"] = json!(long);
    }
    if status.is_server_error() {
        e["category"] = json!("APPLICATION");
    }
    (status, Json(json!({ "errors": [e] }))).into_response()
}

/// `http://host` of the request, for `href` and `next` links.
fn origin(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

/// The fault menu, answered in eBay's shapes.
async fn inject(State(f): State<FaultInjector>, req: Request, next: Next) -> Response {
    if faults::is_control(&req) {
        return next.run(req).await;
    }
    match faults::draw(&f).await {
        Some(Drawn::Throttle { retry_after_s }) => {
            let mut res = errors(
                StatusCode::TOO_MANY_REQUESTS,
                2001,
                "ACCESS",
                "Too many requests. The request limit has been reached for the resource.",
                None,
            );
            if let Ok(v) = retry_after_s.to_string().parse() {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Some(Drawn::Error) if req.uri().path().starts_with("/sell/fulfillment/") => {
            errors(StatusCode::INTERNAL_SERVER_ERROR, 30500, "API_FULFILLMENT", "System error", None)
        }
        Some(Drawn::Error) => {
            errors(StatusCode::INTERNAL_SERVER_ERROR, 25001, "API_INVENTORY", "A system error has occurred.", None)
        }
        None => next.run(req).await,
    }
}

async fn control_order(State(sim): State<EbaySim>, Json(change): Json<OrderChange>) -> Response {
    match sim.apply(change) {
        Ok(ack) => Json(ack).into_response(),
        Err(ControlError(message)) => (StatusCode::NOT_FOUND, message).into_response(),
    }
}

async fn control_item(State(sim): State<EbaySim>, Json(seed): Json<ItemSeed>) -> StatusCode {
    sim.add_item(seed);
    StatusCode::NO_CONTENT
}

async fn show(State(sim): State<EbaySim>) -> Json<EbayView> {
    Json(sim.view())
}
