//! A simulated Amazon seller account behind the Selling Partner API:
//! Orders v0 `getOrders` (`LastUpdatedAfter`/`Before` with the two-minute
//! rule, `NextToken`) and `getOrderItems`; Listings Items
//! `patchListingsItem` (the `fulfillment_availability` merge) and
//! `searchListingsItems`; the LWA token endpoint, with tokens that expire.
//! Each operation has its own token bucket (the spec's usage plans unless
//! set), answering 429 `QuotaExceeded` without `Retry-After` as Amazon
//! does. Faults: 429, 500, slow, pages served twice or shuffled, answers
//! lost after a patch. Control routes: `POST /_sim/orders`,
//! `POST /_sim/items`, `POST /_sim/tokens/expire`, `GET /_sim/state`, `/_sim/faults`.

mod auth;
mod listings;
mod orders;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::book::Book;
use super::control::{ControlError, OrderAck, OrderChange};
use super::faults::{self, Drawn, FaultInjector, Faults};
use crate::amazon::{RATES, Rate, Rates};
use crate::clock::Clock;

/// Patch bodies kept for the contract tests; older ones are dropped.
const REQUEST_LOG_MAX: usize = 100;
/// LWA access tokens live an hour [doc]; `with_token_ttl` shortens it.
const TOKEN_TTL_S: u64 = 3600;

/// The seller's identity and app credentials the simulator accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub seller_id: String,
    pub marketplace_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

#[derive(Debug, Clone)]
pub struct AmazonSim {
    account: Account,
    state: Arc<Mutex<AmazonState>>,
    pub faults: FaultInjector,
}

#[derive(Debug)]
struct AmazonState {
    book: Book,
    items: BTreeMap<String, SimItem>,
    /// Issued access tokens and when each expires (ms, the simulator's clock).
    tokens: HashMap<String, i64>,
    token_ttl_s: u64,
    clock: Clock,
    buckets: HashMap<&'static str, Bucket>,
    patches: VecDeque<serde_json::Value>,
    stats: AmazonStats,
}

#[derive(Debug, Clone)]
struct SimItem {
    quantity: i64,
    product_type: String,
    set_at_ms: i64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    rate: Rate,
    available: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: Rate) -> Self {
        Self { rate, available: f64::from(rate.burst), at: Instant::now() }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * self.rate.per_second;
        self.available = (self.available + refill).min(f64::from(self.rate.burst));
        self.at = now;
        if self.available >= 1.0 {
            self.available -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Counters shown by `GET /_sim/state`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmazonStats {
    /// 429s from the operations' buckets, by operation name.
    pub throttled: BTreeMap<String, u64>,
    pub calls: BTreeMap<String, u64>,
    pub tokens_issued: u64,
    /// Calls refused for an expired token.
    pub expired_tokens_refused: u64,
    pub pages_duplicated: u64,
}

/// `POST /_sim/items`: a listing with its merchant-fulfilled quantity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSeed {
    pub sku: String,
    pub quantity: i64,
    #[serde(default)]
    pub product_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmazonView {
    pub listings: BTreeMap<String, ListingView>,
    pub orders: usize,
    pub stats: AmazonStats,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingView {
    pub quantity: i64,
    pub product_type: String,
    /// When the quantity was last set, in ms since the epoch (0: never).
    #[serde(default)]
    pub set_at_ms: i64,
}

impl AmazonSim {
    pub fn new(account: Account, faults: Faults) -> Self {
        let state = AmazonState {
            book: Book::default(),
            items: BTreeMap::new(),
            tokens: HashMap::new(),
            token_ttl_s: TOKEN_TTL_S,
            clock: Clock::system(),
            buckets: buckets(RATES),
            patches: VecDeque::new(),
            stats: AmazonStats::default(),
        };
        Self { account, state: Arc::new(Mutex::new(state)), faults: FaultInjector::new(faults) }
    }

    /// Sets the operations' usage plans (tests cannot wait a minute per getOrders).
    pub fn with_rates(self, rates: Rates) -> Self {
        self.lock().buckets = buckets(rates);
        self
    }

    /// Sets how long issued access tokens live.
    pub fn with_token_ttl(self, seconds: u64) -> Self {
        self.lock().token_ttl_s = seconds;
        self
    }

    /// Sets the clock behind "now" (the two-minute rule, token expiry). Order
    /// times still come from the system clock (unless `with_order_clock`):
    /// a clock ahead of it makes fresh orders old enough to be asked for at once.
    pub fn with_clock(self, clock: Clock) -> Self {
        self.lock().clock = clock;
        self
    }

    /// Stamps order changes from `clock` (the system clock unless set), so a
    /// test moving one clock for stocksync and the simulators sees orders
    /// age as they would.
    pub fn with_order_clock(self, clock: Clock) -> Self {
        self.lock().book.set_clock(clock);
        self
    }

    fn lock(&self) -> MutexGuard<'_, AmazonState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn add_item(&self, seed: ItemSeed) {
        let product_type = seed.product_type.unwrap_or_else(|| "PRODUCT".into());
        self.lock().items.insert(seed.sku, SimItem { quantity: seed.quantity, product_type, set_at_ms: 0 });
    }

    /// Creates or changes an order (see `OrderChange`).
    pub fn apply(&self, mut change: OrderChange) -> Result<OrderAck, ControlError> {
        if let Some(raw) = change.id.take() {
            let number = orders::order_number(&raw).ok_or_else(|| ControlError(format!("no order {raw}")))?;
            change.id = Some(number.to_string());
        }
        let applied = self.lock().book.apply(change)?;
        Ok(OrderAck { id: orders::order_id(applied.id), updated_at_ms: applied.at_ms })
    }

    /// Expires every access token issued so far, as if an hour had passed.
    pub fn expire_tokens(&self) {
        self.lock().tokens.values_mut().for_each(|exp| *exp = i64::MIN);
    }

    pub fn view(&self) -> AmazonView {
        let st = self.lock();
        let listings = st
            .items
            .iter()
            .map(|(sku, i)| {
                let view =
                    ListingView { quantity: i.quantity, product_type: i.product_type.clone(), set_at_ms: i.set_at_ms };
                (sku.clone(), view)
            })
            .collect();
        AmazonView { listings, orders: st.book.orders.len(), stats: st.stats.clone() }
    }

    /// The `patchListingsItem` bodies received, oldest first.
    pub fn patches(&self) -> Vec<serde_json::Value> {
        self.lock().patches.iter().cloned().collect()
    }

    pub fn router(&self) -> Router {
        let control = Router::new()
            .route("/_sim/faults", get(faults::get_faults).post(faults::set_faults))
            .with_state(self.faults.clone());
        Router::new()
            .route("/auth/o2/token", post(auth::token))
            .route("/orders/v0/orders", get(orders::get_orders))
            .route("/orders/v0/orders/{order_id}/orderItems", get(orders::get_order_items))
            .route("/listings/2021-08-01/items/{seller_id}", get(listings::search))
            .route("/listings/2021-08-01/items/{seller_id}/{sku}", axum::routing::patch(listings::patch))
            .route("/_sim/orders", post(control_order))
            .route("/_sim/items", post(control_item))
            .route("/_sim/tokens/expire", post(control_expire))
            .route("/_sim/state", get(show))
            .with_state(self.clone())
            .merge(control)
            .layer(middleware::from_fn_with_state(self.faults.clone(), inject))
    }

    /// Admits one call of `operation`: the access token must be current and
    /// the operation's bucket must hold a request. Otherwise Amazon's 403 or 429.
    fn admit(&self, operation: &'static str, headers: &HeaderMap) -> Option<Response> {
        let mut st = self.lock();
        *st.stats.calls.entry(operation.into()).or_default() += 1;
        let now = st.clock.now().millis();
        let token = headers.get("x-amz-access-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        match st.tokens.get(token).copied() {
            None => {
                let details = "The access token you provided is revoked, malformed or invalid.";
                return Some(error(
                    StatusCode::FORBIDDEN,
                    "Unauthorized",
                    "Access to requested resource is denied.",
                    details,
                ));
            }
            Some(expires) if expires <= now => {
                st.stats.expired_tokens_refused += 1;
                let details = "The access token you provided has expired.";
                return Some(error(
                    StatusCode::FORBIDDEN,
                    "Unauthorized",
                    "Access to requested resource is denied.",
                    details,
                ));
            }
            Some(_) => {}
        }
        if st.buckets.get_mut(operation).is_some_and(|b| !b.take()) {
            *st.stats.throttled.entry(operation.into()).or_default() += 1;
            return Some(quota_exceeded());
        }
        None
    }
}

fn buckets(r: Rates) -> HashMap<&'static str, Bucket> {
    HashMap::from([
        ("getOrders", Bucket::new(r.get_orders)),
        ("getOrderItems", Bucket::new(r.get_order_items)),
        ("patchListingsItem", Bucket::new(r.patch_listings_item)),
        ("searchListingsItems", Bucket::new(r.search_listings_items)),
    ])
}

/// An SP-API error answer: `{"errors":[{code, message, details}]}`.
fn error(status: StatusCode, code: &str, message: &str, details: &str) -> Response {
    let mut e = json!({ "code": code, "message": message });
    if !details.is_empty() {
        e["details"] = json!(details);
    }
    (status, Json(json!({ "errors": [e] }))).into_response()
}

/// Amazon's throttling answer: no `Retry-After`; the caller backs off from
/// the operation's rate [doc].
fn quota_exceeded() -> Response {
    error(StatusCode::TOO_MANY_REQUESTS, "QuotaExceeded", "You exceeded your quota for the requested resource.", "")
}

/// The fault menu, answered in SP-API's shapes (429 without `Retry-After`).
async fn inject(State(f): State<FaultInjector>, req: Request, next: Next) -> Response {
    if faults::is_control(&req) {
        return next.run(req).await;
    }
    match faults::draw(&f).await {
        Some(Drawn::Throttle { .. }) => quota_exceeded(),
        Some(Drawn::Error) => {
            error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", "We encountered an internal error.", "")
        }
        None => next.run(req).await,
    }
}

async fn control_order(State(sim): State<AmazonSim>, Json(change): Json<OrderChange>) -> Response {
    match sim.apply(change) {
        Ok(ack) => Json(ack).into_response(),
        Err(ControlError(message)) => (StatusCode::NOT_FOUND, message).into_response(),
    }
}

async fn control_item(State(sim): State<AmazonSim>, Json(seed): Json<ItemSeed>) -> StatusCode {
    sim.add_item(seed);
    StatusCode::NO_CONTENT
}

async fn control_expire(State(sim): State<AmazonSim>) -> StatusCode {
    sim.expire_tokens();
    StatusCode::NO_CONTENT
}

async fn show(State(sim): State<AmazonSim>) -> Json<AmazonView> {
    Json(sim.view())
}
