//! A simulated Shopify store behind the Admin GraphQL API 2025-01: the
//! operations the connector uses, recognised by their root field (no general
//! GraphQL engine), with the official response shapes and
//! `extensions.cost`; a query-cost bucket answering THROTTLED; orders and
//! inventory levels; signed `orders/*` webhooks sent to a configured URL,
//! lost or late on demand. Control routes: `POST /_sim/orders`,
//! `POST /_sim/items`, `POST /_sim/webhooks`, `GET /_sim/state`, `/_sim/faults`.

mod graphql;
mod webhooks;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::{Deserialize, Serialize};

use super::control::{ControlError, ModClock, OrderAck, OrderChange};
use super::faults::{self, FaultInjector, Faults};

/// Request bodies kept for the contract tests; older ones are dropped.
const REQUEST_LOG_MAX: usize = 100;
/// Shopify's standard plan: a 1,000-point bucket refilling 100 points/s
/// [doc]. The simulator defaults to half the refill so tests meet THROTTLED
/// sooner; `with_bucket` sets both.
const BUCKET_POINTS: f64 = 1000.0;
const RESTORE_POINTS_PER_S: f64 = 50.0;

#[derive(Debug, Clone)]
pub struct ShopifySim {
    token: String,
    location: String,
    state: Arc<Mutex<ShopState>>,
    client: Option<reqwest::Client>,
    pub faults: FaultInjector,
}

#[derive(Debug)]
struct ShopState {
    orders: BTreeMap<u64, SimOrder>,
    /// By inventory item GID.
    items: BTreeMap<String, SimItem>,
    next_id: u64,
    clock: ModClock,
    bucket: Bucket,
    webhook: Option<WebhookTarget>,
    requests: VecDeque<serde_json::Value>,
    stats: ShopStats,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    max: f64,
    restore_per_s: f64,
    available: f64,
    at: Instant,
}

#[derive(Debug, Clone)]
struct SimOrder {
    created_ms: i64,
    updated_ms: i64,
    cancelled_ms: Option<i64>,
    fulfilled: bool,
    lines: Vec<SimLine>,
}

#[derive(Debug, Clone)]
struct SimLine {
    id: u64,
    sku: String,
    /// Units ordered, removed ones included (GraphQL `quantity`).
    quantity: u32,
    /// Units still ordered (`currentQuantity`).
    current: u32,
}

#[derive(Debug, Clone)]
struct SimItem {
    sku: String,
    quantity: i64,
    sets: u64,
    /// When the quantity was last set, in ms since the epoch (latency benches).
    set_at_ms: i64,
}

pub use super::control::WebhookTarget;

/// Counters shown by `GET /_sim/state`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopStats {
    pub throttled: u64,
    /// Order pages that began with the previous page's last order (`duplicate_pages`).
    pub pages_overlapped: u64,
    pub webhooks_sent: u64,
    pub webhooks_lost: u64,
    pub webhooks_late: u64,
    /// Deliveries that got no 2xx back (stocksync refused or was down).
    pub webhooks_refused: u64,
}

/// `POST /_sim/items`: a variant with a SKU and its available quantity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSeed {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopView {
    /// By SKU.
    pub listings: BTreeMap<String, ListingView>,
    pub orders: usize,
    pub stats: ShopStats,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingView {
    pub inventory_item_id: String,
    pub quantity: i64,
    /// `inventorySetQuantities` changes applied to it.
    pub sets: u64,
    /// When the quantity was last set, in ms since the epoch (0: never).
    #[serde(default)]
    pub set_at_ms: i64,
}

impl ShopifySim {
    /// A store answering `token`, with one location (a numeric id).
    pub fn new(token: impl Into<String>, location_id: u64, faults: Faults) -> Self {
        crate::install_tls_provider();
        let state = ShopState {
            orders: BTreeMap::new(),
            items: BTreeMap::new(),
            next_id: 0,
            clock: ModClock::default(),
            bucket: Bucket {
                max: BUCKET_POINTS,
                restore_per_s: RESTORE_POINTS_PER_S,
                available: BUCKET_POINTS,
                at: Instant::now(),
            },
            webhook: None,
            requests: VecDeque::new(),
            stats: ShopStats::default(),
        };
        Self {
            token: token.into(),
            location: format!("gid://shopify/Location/{location_id}"),
            state: Arc::new(Mutex::new(state)),
            client: reqwest::Client::builder().build().ok(),
            faults: FaultInjector::new(faults),
        }
    }

    /// Sets the cost bucket's size and refill rate (points, points per second).
    pub fn with_bucket(self, max: f64, restore_per_s: f64) -> Self {
        self.lock().bucket = Bucket { max, restore_per_s, available: max, at: Instant::now() };
        self
    }

    fn lock(&self) -> MutexGuard<'_, ShopState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a variant; returns its inventory item GID.
    pub fn add_item(&self, seed: ItemSeed) -> String {
        let mut st = self.lock();
        st.next_id += 1;
        let gid = format!("gid://shopify/InventoryItem/{}", 40_000_000 + st.next_id);
        st.items.insert(gid.clone(), SimItem { sku: seed.sku, quantity: seed.quantity, sets: 0, set_at_ms: 0 });
        gid
    }

    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.lock().webhook = target;
    }

    /// Creates or changes an order (see `OrderChange`) and sends its webhook.
    pub fn apply(&self, change: OrderChange) -> Result<OrderAck, ControlError> {
        let (topic, id, now) = {
            let mut st = self.lock();
            let now = st.clock.tick();
            let (topic, id) = match change.id.as_deref() {
                None => {
                    st.next_id += 1;
                    let id = 5_000_000_000 + st.next_id;
                    let order = SimOrder {
                        created_ms: now,
                        updated_ms: now,
                        cancelled_ms: None,
                        fulfilled: false,
                        lines: vec![],
                    };
                    st.orders.insert(id, order);
                    ("orders/create", id)
                }
                Some(raw) => {
                    let id = raw.parse().map_err(|_| ControlError(format!("no order {raw}")))?;
                    let topic = if change.cancel { "orders/cancelled" } else { "orders/updated" };
                    (topic, id)
                }
            };
            let mut next_id = st.next_id;
            let order = st.orders.get_mut(&id).ok_or_else(|| ControlError(format!("no order {id}")))?;
            for l in change.lines {
                match order.lines.iter_mut().find(|x| x.sku == l.sku) {
                    // An edit removing units keeps `quantity` and lowers `currentQuantity`.
                    Some(line) => {
                        line.quantity = line.quantity.max(l.quantity);
                        line.current = l.quantity;
                    }
                    None => {
                        next_id += 1;
                        let line = SimLine {
                            id: 13_000_000_000 + next_id,
                            sku: l.sku,
                            quantity: l.quantity,
                            current: l.quantity,
                        };
                        order.lines.push(line);
                    }
                }
            }
            if change.cancel {
                order.cancelled_ms = Some(now);
            }
            order.fulfilled |= change.ship;
            order.updated_ms = now;
            st.next_id = next_id;
            (topic, id, now)
        };
        self.notify(topic, id);
        Ok(OrderAck { id: id.to_string(), updated_at_ms: now })
    }

    pub fn view(&self) -> ShopView {
        let st = self.lock();
        let listings = st
            .items
            .iter()
            .map(|(gid, item)| {
                let view = ListingView {
                    inventory_item_id: gid.clone(),
                    quantity: item.quantity,
                    sets: item.sets,
                    set_at_ms: item.set_at_ms,
                };
                (item.sku.clone(), view)
            })
            .collect();
        ShopView { listings, orders: st.orders.len(), stats: st.stats.clone() }
    }

    /// GraphQL request bodies received (`{query, variables}`), oldest first.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.lock().requests.iter().cloned().collect()
    }

    pub fn router(&self) -> Router {
        let control = Router::new()
            .route("/_sim/faults", get(faults::get_faults).post(faults::set_faults))
            .with_state(self.faults.clone());
        Router::new()
            .route("/admin/api/2025-01/graphql.json", post(graphql::endpoint))
            .route("/_sim/orders", post(control_order))
            .route("/_sim/items", post(control_item))
            .route("/_sim/webhooks", post(control_webhooks))
            .route("/_sim/state", get(show))
            .with_state(self.clone())
            .merge(control)
            .layer(middleware::from_fn_with_state(self.faults.clone(), faults::inject))
    }
}

async fn control_order(State(sim): State<ShopifySim>, Json(change): Json<OrderChange>) -> Response {
    match sim.apply(change) {
        Ok(ack) => Json(ack).into_response(),
        Err(ControlError(message)) => (StatusCode::NOT_FOUND, message).into_response(),
    }
}

async fn control_item(State(sim): State<ShopifySim>, Json(seed): Json<ItemSeed>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "inventoryItemId": sim.add_item(seed) }))
}

async fn control_webhooks(State(sim): State<ShopifySim>, Json(target): Json<WebhookTarget>) -> StatusCode {
    sim.set_webhook(Some(target));
    StatusCode::NO_CONTENT
}

async fn show(State(sim): State<ShopifySim>) -> Json<ShopView> {
    Json(sim.view())
}
