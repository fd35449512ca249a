//! A simulated Etsy shop behind Open API v3: `getShopReceipts` (modified
//! window in unix seconds, `limit` ≤ 100, `offset`), `getListingInventory`
//! and `updateListingInventory` (the PUT refuses the GET's read-only keys,
//! as Etsy does), and `getListingsByShop` with `includes=Inventory`. Every
//! call needs `x-api-key: keystring:shared_secret` and the bearer token.
//! Budgets: requests per second (a bucket) and per day (a window), with
//! Etsy's `x-limit-per-second`, `x-remaining-this-second`, `x-limit-per-day`
//! and `x-remaining-today` on every answer, and 429 with `retry-after`.
//! Faults: 429, 500, slow, pages served twice or shuffled, answers lost
//! after a write. Control routes: `POST /_sim/orders`, `POST /_sim/items`,
//! `GET /_sim/state`, `/_sim/faults`.

mod listings;
mod receipts;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::book::Book;
use super::control::{ControlError, OrderAck, OrderChange};
use super::faults::{self, Drawn, FaultInjector, Faults};
use crate::clock::{Clock, system_now};

/// Inventory PUT bodies kept for the contract tests; older ones are dropped.
const REQUEST_LOG_MAX: usize = 100;
/// Etsy's default budgets per app: 10 requests a second, 10,000 a day [doc].
const PER_SECOND: u32 = 10;
const PER_DAY: u32 = 10_000;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone)]
pub struct EtsySim {
    api_key: String,
    token: String,
    shop_id: u64,
    state: Arc<Mutex<EtsyState>>,
    pub faults: FaultInjector,
}

#[derive(Debug)]
struct EtsyState {
    book: Book,
    listings: BTreeMap<u64, SimListing>,
    next_id: u64,
    second: (f64, Instant),
    day: DayWindow,
    puts: VecDeque<serde_json::Value>,
    stats: EtsyStats,
}

#[derive(Debug, Clone)]
struct SimListing {
    title: String,
    products: Vec<SimProduct>,
}

#[derive(Debug, Clone)]
struct SimProduct {
    product_id: u64,
    offering_id: u64,
    sku: String,
    /// A variation value (`Color: Red`) when the listing has several products.
    color: Option<String>,
    quantity: i64,
    puts: u64,
    set_at_ms: i64,
}

/// Requests left in the current day window.
#[derive(Debug, Clone, Copy)]
struct DayWindow {
    limit: u32,
    left: u32,
    window_ms: i64,
    resets_at: i64,
}

/// Counters shown by `GET /_sim/state`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtsyStats {
    pub calls: u64,
    pub inventory_reads: u64,
    pub inventory_writes: u64,
    pub throttled_per_second: u64,
    pub throttled_per_day: u64,
    pub pages_duplicated: u64,
}

/// `POST /_sim/items`: a product; products naming the same `listing` title
/// are variations (by color) of one listing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSeed {
    pub sku: String,
    pub quantity: i64,
    #[serde(default)]
    pub listing: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EtsyView {
    /// By SKU.
    pub listings: BTreeMap<String, ListingView>,
    pub orders: usize,
    pub stats: EtsyStats,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingView {
    pub listing_id: u64,
    pub quantity: i64,
    /// Inventory writes that changed this product.
    pub sets: u64,
    /// When the quantity was last set, in ms since the epoch (0: never).
    #[serde(default)]
    pub set_at_ms: i64,
}

impl EtsySim {
    /// A shop answering the app key `keystring:shared_secret` and `token`.
    pub fn new(keystring: &str, shared_secret: &str, token: impl Into<String>, shop_id: u64, faults: Faults) -> Self {
        let state = EtsyState {
            book: Book::default(),
            listings: BTreeMap::new(),
            next_id: 0,
            second: (f64::from(PER_SECOND), Instant::now()),
            day: DayWindow {
                limit: PER_DAY,
                left: PER_DAY,
                window_ms: DAY_MS,
                resets_at: system_now().millis() + DAY_MS,
            },
            puts: VecDeque::new(),
            stats: EtsyStats::default(),
        };
        Self {
            api_key: format!("{keystring}:{shared_secret}"),
            token: token.into(),
            shop_id,
            state: Arc::new(Mutex::new(state)),
            faults: FaultInjector::new(faults),
        }
    }

    /// Sets the day's budget: `limit` requests per `window_ms`.
    pub fn with_daily_limit(self, limit: u32, window_ms: i64) -> Self {
        self.lock().day = DayWindow { limit, left: limit, window_ms, resets_at: system_now().millis() + window_ms };
        self
    }

    /// Stamps order changes from `clock` (the system clock unless set), so a
    /// test moving one clock for stocksync and the simulators sees orders
    /// age as they would.
    pub fn with_order_clock(self, clock: Clock) -> Self {
        self.lock().book.set_clock(clock);
        self
    }

    fn lock(&self) -> MutexGuard<'_, EtsyState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a product; returns its listing id.
    pub fn add_item(&self, seed: ItemSeed) -> u64 {
        let mut st = self.lock();
        let title = seed.listing.clone().unwrap_or_else(|| seed.sku.clone());
        let existing =
            seed.listing.as_ref().and_then(|t| st.listings.iter().find(|(_, l)| &l.title == t)).map(|(id, _)| *id);
        st.next_id += 1;
        let n = st.next_id;
        let product = SimProduct {
            product_id: 3_000_000_000 + n,
            offering_id: 4_000_000_000 + n,
            color: seed.listing.as_ref().map(|_| seed.sku.rsplit('-').next().unwrap_or("").to_owned()),
            sku: seed.sku,
            quantity: seed.quantity,
            puts: 0,
            set_at_ms: 0,
        };
        let id = existing.unwrap_or(1_000_000_000 + n);
        st.listings.entry(id).or_insert_with(|| SimListing { title, products: vec![] }).products.push(product);
        id
    }

    /// Creates or changes an order (see `OrderChange`).
    pub fn apply(&self, change: OrderChange) -> Result<OrderAck, ControlError> {
        let applied = self.lock().book.apply(change)?;
        Ok(OrderAck { id: applied.id.to_string(), updated_at_ms: applied.at_ms })
    }

    pub fn view(&self) -> EtsyView {
        let st = self.lock();
        let mut listings = BTreeMap::new();
        for (id, l) in &st.listings {
            for p in &l.products {
                let view = ListingView { listing_id: *id, quantity: p.quantity, sets: p.puts, set_at_ms: p.set_at_ms };
                listings.insert(p.sku.clone(), view);
            }
        }
        EtsyView { listings, orders: st.book.orders.len(), stats: st.stats.clone() }
    }

    /// The inventory PUT bodies received, oldest first.
    pub fn inventory_writes(&self) -> Vec<serde_json::Value> {
        self.lock().puts.iter().cloned().collect()
    }

    pub fn router(&self) -> Router {
        let control = Router::new()
            .route("/_sim/faults", get(faults::get_faults).post(faults::set_faults))
            .with_state(self.faults.clone());
        Router::new()
            .route("/v3/application/shops/{shop_id}/receipts", get(receipts::list))
            .route("/v3/application/shops/{shop_id}/listings", get(listings::by_shop))
            .route("/v3/application/listings/{listing_id}/inventory", get(listings::read).put(listings::write))
            .route("/_sim/orders", post(control_order))
            .route("/_sim/items", post(control_item))
            .route("/_sim/state", get(show))
            .with_state(self.clone())
            .layer(middleware::from_fn_with_state(self.clone(), admit))
            .merge(control)
            .layer(middleware::from_fn_with_state(self.faults.clone(), inject))
    }
}

/// Etsy's error body: `{"error": "…"}`.
fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// Middleware on the API routes: credentials, then the second's and the
/// day's budgets; stamps the budget headers on every answer.
async fn admit(State(sim): State<EtsySim>, req: Request, next: Next) -> Response {
    if faults::is_control(&req) {
        return next.run(req).await;
    }
    if let Some(refused) = sim.credentials(req.headers()) {
        return refused;
    }
    let (second_left, day_left, day_limit) = {
        let mut st = sim.lock();
        st.stats.calls += 1;
        let now = system_now().millis();
        if now >= st.day.resets_at {
            st.day.left = st.day.limit;
            st.day.resets_at = now + st.day.window_ms;
        }
        let (tokens, at) = st.second;
        let tokens = (tokens + at.elapsed().as_secs_f64() * f64::from(PER_SECOND)).min(f64::from(PER_SECOND));
        st.second = (tokens, Instant::now());
        if st.day.left == 0 {
            st.stats.throttled_per_day += 1;
            let after = (st.day.resets_at - now).div_euclid(1000).max(1);
            return budget(
                error(StatusCode::TOO_MANY_REQUESTS, "You have exceeded your quota"),
                Some(after),
                0,
                0,
                st.day.limit,
            );
        }
        if tokens < 1.0 {
            st.stats.throttled_per_second += 1;
            let res = error(StatusCode::TOO_MANY_REQUESTS, "You have exceeded your quota");
            return budget(res, Some(1), 0, st.day.left, st.day.limit);
        }
        st.second.0 -= 1.0;
        st.day.left -= 1;
        (st.second.0 as u32, st.day.left, st.day.limit)
    };
    budget(next.run(req).await, None, second_left, day_left, day_limit)
}

/// Etsy's budget headers, and `retry-after` on a 429.
fn budget(mut res: Response, retry_after_s: Option<i64>, second_left: u32, day_left: u32, day_limit: u32) -> Response {
    let h = res.headers_mut();
    h.insert("x-limit-per-second", HeaderValue::from(PER_SECOND));
    h.insert("x-remaining-this-second", HeaderValue::from(second_left));
    h.insert("x-limit-per-day", HeaderValue::from(day_limit));
    h.insert("x-remaining-today", HeaderValue::from(day_left));
    if let Some(after) = retry_after_s {
        h.insert(header::RETRY_AFTER, HeaderValue::from(after));
    }
    res
}

impl EtsySim {
    /// Etsy's answers to a missing shared secret, a wrong key or a wrong token.
    fn credentials(&self, headers: &HeaderMap) -> Option<Response> {
        let key = headers.get("x-api-key").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !key.contains(':') {
            return Some(error(StatusCode::FORBIDDEN, "Shared secret is required in x-api-key header."));
        }
        if key != self.api_key {
            return Some(error(StatusCode::UNAUTHORIZED, "Invalid API key"));
        }
        let bearer =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        if bearer != Some(self.token.as_str()) {
            return Some(error(StatusCode::UNAUTHORIZED, "invalid_token"));
        }
        None
    }
}

/// The fault menu, answered as Etsy does (`{error}`, `retry-after`).
async fn inject(State(f): State<FaultInjector>, req: Request, next: Next) -> Response {
    if faults::is_control(&req) {
        return next.run(req).await;
    }
    match faults::draw(&f).await {
        Some(Drawn::Throttle { retry_after_s }) => {
            let mut res = error(StatusCode::TOO_MANY_REQUESTS, "You have exceeded your quota");
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            res
        }
        Some(Drawn::Error) => error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
        None => next.run(req).await,
    }
}

async fn control_order(State(sim): State<EtsySim>, Json(change): Json<OrderChange>) -> Response {
    match sim.apply(change) {
        Ok(ack) => Json(ack).into_response(),
        Err(ControlError(message)) => (StatusCode::NOT_FOUND, message).into_response(),
    }
}

async fn control_item(State(sim): State<EtsySim>, Json(seed): Json<ItemSeed>) -> Json<serde_json::Value> {
    Json(json!({ "listing_id": sim.add_item(seed) }))
}

async fn show(State(sim): State<EtsySim>) -> Json<EtsyView> {
    Json(sim.view())
}
