//! A simulated Walmart seller account: `POST /v3/token` (client
//! credentials, Basic auth, tokens that expire), `GET /v3/orders`
//! (last-modified window, `meta.nextCursor`, per-line statuses),
//! `PUT /v3/inventory?sku=` and `GET /v3/inventories`. Every call needs
//! `WM_SEC.ACCESS_TOKEN`, `WM_QOS.CORRELATION_ID` and `WM_SVC.NAME`. Each API
//! has an allowance of calls per window; every answer carries
//! `x-current-token-count` and `x-next-replenish-time` (epoch ms), and an
//! empty allowance answers 429. Faults: 429 (with those headers), 500,
//! slow, pages served twice or shuffled, answers lost after a change.
//! Control routes: `POST /_sim/orders`, `POST /_sim/items`,
//! `POST /_sim/tokens/expire`, `GET /_sim/state`, `/_sim/faults`.

mod inventory;
mod orders;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::book::Book;
use super::control::{ControlError, OrderAck, OrderChange};
use super::faults::{self, Drawn, FaultInjector, Faults};
use crate::clock::{Clock, system_now};

/// Inventory bodies kept for the contract tests; older ones are dropped.
const REQUEST_LOG_MAX: usize = 100;
/// Access tokens last 15 minutes (`expires_in: 900` in the spec's examples).
const TOKEN_TTL_S: u64 = 900;
/// The simulator's default allowance per API: generous, so only tests that
/// set a small one meet it. Walmart's real allowances vary per API and seller.
const CALLS_PER_WINDOW: u32 = 1_000;
const WINDOW_MS: i64 = 60_000;

#[derive(Debug, Clone)]
pub struct WalmartSim {
    client_id: String,
    client_secret: String,
    state: Arc<Mutex<WalmartState>>,
    pub faults: FaultInjector,
}

#[derive(Debug)]
struct WalmartState {
    book: Book,
    items: BTreeMap<String, SimItem>,
    tokens: HashMap<String, i64>,
    token_ttl_s: u64,
    allowances: HashMap<&'static str, Allowance>,
    puts: VecDeque<serde_json::Value>,
    stats: WalmartStats,
}

#[derive(Debug, Clone, Default)]
struct SimItem {
    quantity: i64,
    set_at_ms: i64,
}

/// Calls left in an API's current window.
#[derive(Debug, Clone, Copy)]
struct Allowance {
    per_window: u32,
    window_ms: i64,
    left: u32,
    refills_at: i64,
}

impl Allowance {
    fn new(per_window: u32, window_ms: i64) -> Self {
        Self { per_window, window_ms, left: per_window, refills_at: system_now().millis() + window_ms }
    }

    /// Takes a call if one is left; returns what is left after it and when the window refills.
    fn take(&mut self) -> (bool, u32, i64) {
        let now = system_now().millis();
        if now >= self.refills_at {
            self.left = self.per_window;
            self.refills_at = now + self.window_ms;
        }
        let granted = self.left > 0;
        self.left = self.left.saturating_sub(1);
        (granted, self.left, self.refills_at)
    }
}

/// Counters shown by `GET /_sim/state`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalmartStats {
    pub calls: BTreeMap<String, u64>,
    /// 429s from an empty allowance, by API.
    pub throttled: BTreeMap<String, u64>,
    pub tokens_issued: u64,
    pub expired_tokens_refused: u64,
    pub pages_duplicated: u64,
}

/// `POST /_sim/items`: a SKU and its quantity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSeed {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalmartView {
    pub listings: BTreeMap<String, ListingView>,
    pub orders: usize,
    pub stats: WalmartStats,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingView {
    pub quantity: i64,
    /// When the quantity was last set, in ms since the epoch (0: never).
    #[serde(default)]
    pub set_at_ms: i64,
}

impl WalmartSim {
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>, faults: Faults) -> Self {
        let state = WalmartState {
            book: Book::default(),
            items: BTreeMap::new(),
            tokens: HashMap::new(),
            token_ttl_s: TOKEN_TTL_S,
            allowances: HashMap::from([
                ("orders", Allowance::new(CALLS_PER_WINDOW, WINDOW_MS)),
                ("inventory", Allowance::new(CALLS_PER_WINDOW, WINDOW_MS)),
            ]),
            puts: VecDeque::new(),
            stats: WalmartStats::default(),
        };
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            state: Arc::new(Mutex::new(state)),
            faults: FaultInjector::new(faults),
        }
    }

    /// Sets an API's allowance (`orders` or `inventory`): calls per window.
    pub fn with_allowance(self, api: &'static str, calls: u32, window_ms: i64) -> Self {
        self.lock().allowances.insert(api, Allowance::new(calls, window_ms));
        self
    }

    pub fn with_token_ttl(self, seconds: u64) -> Self {
        self.lock().token_ttl_s = seconds;
        self
    }

    /// Stamps order changes from `clock` (the system clock unless set), so a
    /// test moving one clock for stocksync and the simulators sees orders
    /// age as they would.
    pub fn with_order_clock(self, clock: Clock) -> Self {
        self.lock().book.set_clock(clock);
        self
    }

    fn lock(&self) -> MutexGuard<'_, WalmartState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn add_item(&self, seed: ItemSeed) {
        self.lock().items.insert(seed.sku, SimItem { quantity: seed.quantity, set_at_ms: 0 });
    }

    /// Creates or changes an order (see `OrderChange`); a lowered line
    /// quantity becomes a `Cancelled` status for the removed units.
    pub fn apply(&self, mut change: OrderChange) -> Result<OrderAck, ControlError> {
        if let Some(raw) = change.id.take() {
            let number = orders::order_number(&raw).ok_or_else(|| ControlError(format!("no order {raw}")))?;
            change.id = Some(number.to_string());
        }
        let applied = self.lock().book.apply(change)?;
        Ok(OrderAck { id: orders::purchase_order_id(applied.id), updated_at_ms: applied.at_ms })
    }

    pub fn expire_tokens(&self) {
        self.lock().tokens.values_mut().for_each(|exp| *exp = i64::MIN);
    }

    pub fn view(&self) -> WalmartView {
        let st = self.lock();
        let listings = st
            .items
            .iter()
            .map(|(sku, i)| (sku.clone(), ListingView { quantity: i.quantity, set_at_ms: i.set_at_ms }))
            .collect();
        WalmartView { listings, orders: st.book.orders.len(), stats: st.stats.clone() }
    }

    /// The inventory bodies received, oldest first.
    pub fn inventory_requests(&self) -> Vec<serde_json::Value> {
        self.lock().puts.iter().cloned().collect()
    }

    pub fn router(&self) -> Router {
        let control = Router::new()
            .route("/_sim/faults", get(faults::get_faults).post(faults::set_faults))
            .with_state(self.faults.clone());
        Router::new()
            .route("/v3/token", post(token))
            .route("/v3/orders", get(orders::list))
            .route("/v3/inventory", axum::routing::put(inventory::put))
            .route("/v3/inventories", get(inventory::list))
            .route("/_sim/orders", post(control_order))
            .route("/_sim/items", post(control_item))
            .route("/_sim/tokens/expire", post(control_expire))
            .route("/_sim/state", get(show))
            .with_state(self.clone())
            .merge(control)
            .layer(middleware::from_fn_with_state(self.faults.clone(), inject))
    }

    /// Admits one call to `api`: the required headers, a current token, a
    /// call left in the window. Returns the allowance headers to stamp on
    /// the answer, or the refusal.
    fn admit(&self, api: &'static str, headers: &HeaderMap) -> Result<(u32, i64), Box<Response>> {
        let has = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).is_some_and(|v| !v.is_empty());
        if !has("WM_QOS.CORRELATION_ID") || !has("WM_SVC.NAME") {
            return Err(Box::new(error(
                StatusCode::BAD_REQUEST,
                "MISSING_HEADER",
                "WM_QOS.CORRELATION_ID and WM_SVC.NAME are required",
            )));
        }
        let mut st = self.lock();
        *st.stats.calls.entry(api.into()).or_default() += 1;
        let token = headers.get("WM_SEC.ACCESS_TOKEN").and_then(|v| v.to_str().ok()).unwrap_or_default();
        match st.tokens.get(token).copied() {
            Some(expires) if expires > system_now().millis() => {}
            known => {
                if known.is_some() {
                    st.stats.expired_tokens_refused += 1;
                }
                return Err(Box::new(error(
                    StatusCode::UNAUTHORIZED,
                    "UNAUTHORIZED.GMP_GATEWAY_API",
                    "Unauthorized token or token is expired",
                )));
            }
        }
        let Some(allowance) = st.allowances.get_mut(api) else { return Ok((u32::MAX, 0)) };
        let (granted, left, refills_at) = allowance.take();
        if !granted {
            *st.stats.throttled.entry(api.into()).or_default() += 1;
            return Err(Box::new(stamp(too_many(), 0, refills_at)));
        }
        Ok((left, refills_at))
    }
}

/// Walmart's error answer: `{"errors":{"error":[{code, field, description, info, severity, category}]}}`.
fn error(status: StatusCode, code: &str, info: &str) -> Response {
    let e = json!({ "code": code, "field": "", "description": status.canonical_reason().unwrap_or("Error"),
        "info": info, "severity": "ERROR", "category": "DATA", "causes": [], "errorIdentifiers": {} });
    (status, Json(json!({ "errors": { "error": [e] } }))).into_response()
}

fn too_many() -> Response {
    error(StatusCode::TOO_MANY_REQUESTS, "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API", "Too Many Requests")
}

/// Adds the allowance headers to an answer.
fn stamp(mut res: Response, left: u32, refills_at: i64) -> Response {
    if refills_at > 0 {
        let h = res.headers_mut();
        h.insert("x-current-token-count", HeaderValue::from(left));
        h.insert("x-next-replenish-time", HeaderValue::from(refills_at));
    }
    res
}

/// The fault menu, answered as Walmart does (429 with the allowance headers).
async fn inject(State(f): State<FaultInjector>, req: Request, next: Next) -> Response {
    if faults::is_control(&req) || req.uri().path() == "/v3/token" {
        return next.run(req).await;
    }
    match faults::draw(&f).await {
        Some(Drawn::Throttle { retry_after_s }) => {
            let at = system_now().millis() + i64::try_from(retry_after_s * 1000).unwrap_or(0);
            stamp(too_many(), 0, at)
        }
        Some(Drawn::Error) => {
            error(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR.GMP_GATEWAY_API", "Internal error")
        }
        None => next.run(req).await,
    }
}

/// `POST /v3/token`: `grant_type=client_credentials` with Basic client id and secret.
async fn token(
    State(sim): State<WalmartSim>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    if given.as_deref() != Some(format!("{}:{}", sim.client_id, sim.client_secret).as_str()) {
        return error(StatusCode::UNAUTHORIZED, "INVALID_CLIENT.GMP_GATEWAY_API", "Invalid client credentials");
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST.GMP_GATEWAY_API",
            "grant_type must be client_credentials",
        );
    }
    let mut st = sim.lock();
    st.stats.tokens_issued += 1;
    let token = format!("eyJraWQiOiJzaW0i.{}.{:x}", st.stats.tokens_issued, fastrand::u64(..));
    let ttl = st.token_ttl_s;
    st.tokens.insert(token.clone(), system_now().millis() + i64::try_from(ttl * 1000).unwrap_or(i64::MAX / 2));
    Json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": ttl })).into_response()
}

async fn control_order(State(sim): State<WalmartSim>, Json(change): Json<OrderChange>) -> Response {
    match sim.apply(change) {
        Ok(ack) => Json(ack).into_response(),
        Err(ControlError(message)) => (StatusCode::NOT_FOUND, message).into_response(),
    }
}

async fn control_item(State(sim): State<WalmartSim>, Json(seed): Json<ItemSeed>) -> StatusCode {
    sim.add_item(seed);
    StatusCode::NO_CONTENT
}

async fn control_expire(State(sim): State<WalmartSim>) -> StatusCode {
    sim.expire_tokens();
    StatusCode::NO_CONTENT
}

async fn show(State(sim): State<WalmartSim>) -> Json<WalmartView> {
    Json(sim.view())
}
