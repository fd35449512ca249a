//! A simulated WooCommerce store behind the REST API v3: `GET /orders`
//! (modified window, numbered pages, `X-WP-Total(Pages)`), products and
//! variations with their batch endpoints (per-item `error` objects), HTTP
//! Basic auth with a consumer key and secret (401 WP_Error otherwise), the
//! fault menu (a host's 429 or 500 as WP_Error, slow, duplicated and
//! shuffled pages, answers lost after the change), and signed
//! `order.created`/`order.updated` webhooks, lost or late on demand.
//! Control routes: `POST /_sim/orders`, `POST /_sim/items`,
//! `POST /_sim/webhooks`, `GET /_sim/state`, `/_sim/faults`.

mod orders;
mod products;
mod webhooks;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::book::Book;
use super::control::{ControlError, OrderAck, OrderChange};
use super::faults::{self, Drawn, FaultInjector, Faults};
use crate::clock::Clock;

/// Batch bodies kept for the contract tests; older ones are dropped.
const REQUEST_LOG_MAX: usize = 100;

#[derive(Debug, Clone)]
pub struct WooSim {
    key: String,
    secret: String,
    state: Arc<Mutex<WooState>>,
    client: Option<reqwest::Client>,
    pub faults: FaultInjector,
}

#[derive(Debug, Default)]
struct WooState {
    book: Book,
    /// Products and variations by id.
    products: BTreeMap<u64, SimProduct>,
    next_product: u64,
    webhook: Option<WebhookTarget>,
    batch_requests: VecDeque<serde_json::Value>,
    stats: WooStats,
}

#[derive(Debug, Clone)]
struct SimProduct {
    sku: String,
    /// `simple`, `variable` (a parent holding no stock) or `variation`.
    kind: &'static str,
    parent: Option<u64>,
    quantity: Option<i64>,
    sets: u64,
    set_at_ms: i64,
}

pub use super::control::WebhookTarget;

/// Counters shown by `GET /_sim/state`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WooStats {
    pub batch_calls: u64,
    /// Order pages served in place of the next one (`duplicate_pages`).
    pub pages_duplicated: u64,
    pub webhooks_sent: u64,
    pub webhooks_lost: u64,
    pub webhooks_late: u64,
    /// Deliveries that got no 2xx back (stocksync refused or was down).
    pub webhooks_refused: u64,
}

/// `POST /_sim/items`: a simple product, or with `parent` (the SKU of a
/// variable product, made if new) a variation of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSeed {
    pub sku: String,
    pub quantity: i64,
    #[serde(default)]
    pub parent: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WooView {
    /// By SKU; variable parents are not listed.
    pub listings: BTreeMap<String, ListingView>,
    pub orders: usize,
    pub stats: WooStats,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingView {
    /// `id`, or `parent_id/variation_id`: the connector's external id.
    pub external_id: String,
    pub quantity: Option<i64>,
    /// Batch updates applied to it.
    pub sets: u64,
    /// When the quantity was last set, in ms since the epoch (0: never).
    #[serde(default)]
    pub set_at_ms: i64,
}

impl WooSim {
    /// A store accepting the consumer key and secret `key`, `secret`.
    pub fn new(key: impl Into<String>, secret: impl Into<String>, faults: Faults) -> Self {
        crate::install_tls_provider();
        Self {
            key: key.into(),
            secret: secret.into(),
            state: Arc::default(),
            client: reqwest::Client::builder().build().ok(),
            faults: FaultInjector::new(faults),
        }
    }

    /// Stamps order changes from `clock` (the system clock unless set), so a
    /// test moving one clock for stocksync and the simulators sees orders
    /// age as they would.
    pub fn with_order_clock(self, clock: Clock) -> Self {
        self.lock().book.set_clock(clock);
        self
    }

    fn lock(&self) -> MutexGuard<'_, WooState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a product or variation; returns its external id.
    pub fn add_item(&self, seed: ItemSeed) -> String {
        let mut st = self.lock();
        let product = |st: &mut WooState, sku: String, kind, parent, quantity| {
            st.next_product += 1;
            let id = 100 + st.next_product;
            st.products.insert(id, SimProduct { sku, kind, parent, quantity, sets: 0, set_at_ms: 0 });
            id
        };
        let Some(parent_sku) = seed.parent else {
            return product(&mut st, seed.sku, "simple", None, Some(seed.quantity)).to_string();
        };
        let existing = st.products.iter().find(|(_, p)| p.kind == "variable" && p.sku == parent_sku).map(|(id, _)| *id);
        let parent = match existing {
            Some(id) => id,
            None => product(&mut st, parent_sku, "variable", None, None),
        };
        let id = product(&mut st, seed.sku, "variation", Some(parent), Some(seed.quantity));
        format!("{parent}/{id}")
    }

    pub fn set_webhook(&self, target: Option<WebhookTarget>) {
        self.lock().webhook = target;
    }

    /// Creates or changes an order (see `OrderChange`) and sends its webhook.
    pub fn apply(&self, change: OrderChange) -> Result<OrderAck, ControlError> {
        let applied = self.lock().book.apply(change)?;
        self.notify(if applied.created { "order.created" } else { "order.updated" }, applied.id);
        Ok(OrderAck { id: applied.id.to_string(), updated_at_ms: applied.at_ms })
    }

    pub fn view(&self) -> WooView {
        let st = self.lock();
        let listings = st
            .products
            .iter()
            .filter(|(_, p)| p.kind != "variable")
            .map(|(id, p)| {
                let external_id = p.parent.map_or_else(|| id.to_string(), |parent| format!("{parent}/{id}"));
                let view = ListingView { external_id, quantity: p.quantity, sets: p.sets, set_at_ms: p.set_at_ms };
                (p.sku.clone(), view)
            })
            .collect();
        WooView { listings, orders: st.book.orders.len(), stats: st.stats.clone() }
    }

    /// The batch bodies received (`{update:[…]}`), oldest first.
    pub fn batch_requests(&self) -> Vec<serde_json::Value> {
        self.lock().batch_requests.iter().cloned().collect()
    }

    pub fn router(&self) -> Router {
        let control = Router::new()
            .route("/_sim/faults", get(faults::get_faults).post(faults::set_faults))
            .with_state(self.faults.clone());
        Router::new()
            .route("/wp-json/wc/v3/orders", get(orders::list))
            .route("/wp-json/wc/v3/products", get(products::list))
            .route("/wp-json/wc/v3/products/batch", post(products::batch))
            .route("/wp-json/wc/v3/products/{parent}/variations", get(products::list_variations))
            .route("/wp-json/wc/v3/products/{parent}/variations/batch", post(products::batch_variations))
            .route("/_sim/orders", post(control_order))
            .route("/_sim/items", post(control_item))
            .route("/_sim/webhooks", post(control_webhooks))
            .route("/_sim/state", get(show))
            .with_state(self.clone())
            .merge(control)
            .layer(middleware::from_fn_with_state(self.faults.clone(), inject))
    }

    /// WooCommerce's 401, unless HTTP Basic carries the consumer key and secret.
    fn denied(&self, headers: &HeaderMap) -> Option<Response> {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
            .and_then(|raw| String::from_utf8(raw).ok());
        if given.as_deref() == Some(format!("{}:{}", self.key, self.secret).as_str()) {
            return None;
        }
        Some(wp_error(StatusCode::UNAUTHORIZED, "woocommerce_rest_authentication_error", "Consumer key is invalid."))
    }
}

/// A WP_Error answer: `{code, message, data:{status}}`.
fn wp_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message, "data": { "status": status.as_u16() } }))).into_response()
}

/// The fault menu, answered as a store's host does (WP_Error bodies).
async fn inject(State(f): State<FaultInjector>, req: Request, next: Next) -> Response {
    if faults::is_control(&req) {
        return next.run(req).await;
    }
    match faults::draw(&f).await {
        Some(Drawn::Throttle { retry_after_s }) => {
            let mut res = wp_error(StatusCode::TOO_MANY_REQUESTS, "rest_too_many_requests", "Too many requests.");
            if let Ok(v) = retry_after_s.to_string().parse() {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Some(Drawn::Error) => {
            wp_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_server_error", "There has been a critical error.")
        }
        None => next.run(req).await,
    }
}

async fn control_order(State(sim): State<WooSim>, Json(change): Json<OrderChange>) -> Response {
    match sim.apply(change) {
        Ok(ack) => Json(ack).into_response(),
        Err(ControlError(message)) => (StatusCode::NOT_FOUND, message).into_response(),
    }
}

async fn control_item(State(sim): State<WooSim>, Json(seed): Json<ItemSeed>) -> Json<serde_json::Value> {
    Json(json!({ "external_id": sim.add_item(seed) }))
}

async fn control_webhooks(State(sim): State<WooSim>, Json(target): Json<WebhookTarget>) -> StatusCode {
    sim.set_webhook(Some(target));
    StatusCode::NO_CONTENT
}

async fn show(State(sim): State<WooSim>) -> Json<WooView> {
    Json(sim.view())
}
