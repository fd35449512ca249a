//! Walmart Marketplace (US). Orders: `GET /v3/orders` by
//! `lastModifiedStartDate`/`EndDate`, pages chained by `meta.nextCursor` (a
//! ready query string), cancellation per order line. Quantities:
//! `PUT /v3/inventory?sku=`, one call per SKU, `{sku, quantity:{unit:"EACH",
//! amount}}`. Listings: `GET /v3/inventories` (every ship node). Auth: a
//! client-credentials token from `POST /v3/token` (Basic client id and
//! secret) in `WM_SEC.ACCESS_TOKEN`, with `WM_QOS.CORRELATION_ID` (a fresh
//! GUID) and `WM_SVC.NAME` on every call. Walmart counts calls per API in
//! windows and says what is left on every answer (`x-current-token-count`,
//! `x-next-replenish-time`): the connector stops calling that API at zero
//! until the replenish time, and a 429 waits for it too. The orders and
//! inventory APIs are counted apart, so polls never queue behind pushes.

mod orders;
mod throttle;

use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::clock::Clock;
use crate::http::{HttpClient, Limits, OpLimit, RetryPolicy, json};
use crate::model::{ChannelConfig, ChannelError, PushEntry, PushResult, RemoteListing};
use crate::oauth::{Granted, TokenCache};

pub use throttle::Replenish;

/// `WM_SVC.NAME`, the service name Walmart's examples use.
pub const SERVICE_NAME: &str = "Walmart Marketplace";
/// Entries per push: one PUT each, so a batch is only the worker's unit of
/// work; ten keeps one batch short when Walmart makes the connector wait.
pub const PUSH_BATCH_MAX: usize = 10;
/// Walmart's allowances are per API and per seller and come back in the
/// headers of every answer, which the connector obeys; this per-API pace
/// only keeps a burst of calls from arriving all at once.
const API_PER_SECOND: f64 = 10.0;
const API_BURST: u32 = 10;
/// The channel-wide backstop, above the two APIs' paces together.
const LIMITS: Limits = Limits { per_second: 25, burst: 25 };
/// `GET /v3/inventories` page size: 50 is the most one page carries [spec:
/// "nextCursor … to retrieve the next 50 items"].
const LISTINGS_PAGE_SIZE: u32 = 50;
/// Pages read at most: 2,000 × 50 = 100,000 SKUs.
const LISTINGS_PAGES_MAX: usize = 2_000;

#[derive(Debug, Clone)]
pub struct WalmartConnector {
    cfg: ChannelConfig,
    http: HttpClient,
    tokens: TokenCache,
    orders_api: Api,
    inventory_api: Api,
    clock: Clock,
}

/// One of Walmart's APIs as the connector paces it: its own bucket and its
/// own pause when Walmart says its allowance is spent.
#[derive(Debug, Clone)]
struct Api {
    pace: OpLimit,
    replenish: Replenish,
}

impl Api {
    fn new() -> Self {
        Self { pace: OpLimit::new(API_PER_SECOND, API_BURST), replenish: Replenish::default() }
    }
}

/// Walmart's error container, `{errors:{error:[{code, description, info}]}}`
/// (some answers put the list directly under `errors`).
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    errors: Option<serde_json::Value>,
}

fn describe(bytes: &[u8]) -> String {
    let body: ErrorBody = serde_json::from_slice(bytes).unwrap_or_default();
    let list = match body.errors {
        Some(serde_json::Value::Object(mut m)) => m.remove("error"),
        other => other,
    };
    let parts: Vec<String> = list
        .and_then(|l| l.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            format!("{} {} {}", text("code"), text("description"), text("info")).trim().to_owned()
        })
        .collect();
    if parts.is_empty() { String::from_utf8_lossy(bytes).chars().take(300).collect() } else { parts.join("; ") }
}

/// A random version-4 GUID for `WM_QOS.CORRELATION_ID`.
fn correlation_id() -> String {
    let a = fastrand::u128(..);
    let hex = format!("{a:032x}");
    format!("{}-{}-4{}-a{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Debug, Deserialize)]
struct Inventories {
    meta: Option<Meta>,
    elements: Option<Elements>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Elements {
    #[serde(default)]
    inventories: Vec<SkuInventory>,
}

#[derive(Debug, Deserialize)]
struct SkuInventory {
    sku: String,
    #[serde(default)]
    nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    input_qty: Option<Amount>,
}

#[derive(Debug, Deserialize)]
struct Amount {
    amount: f64,
}

impl WalmartConnector {
    pub fn new(cfg: ChannelConfig, policy: RetryPolicy) -> Result<Self, ChannelError> {
        let http = HttpClient::new(LIMITS, policy)?.with_throttle_wait(throttle::wait_from_headers);
        Ok(Self {
            http,
            cfg,
            tokens: TokenCache::default(),
            orders_api: Api::new(),
            inventory_api: Api::new(),
            clock: Clock::system(),
        })
    }

    /// Tokens fetched so far.
    pub fn token_refreshes(&self) -> u64 {
        self.tokens.refreshes()
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.cfg.base_url.trim_end_matches('/'))
    }

    async fn access_token(&self) -> Result<String, ChannelError> {
        self.tokens.get(self.clock.now(), || self.fetch_token()).await
    }

    async fn fetch_token(&self) -> Result<Granted, ChannelError> {
        let (id, secret) = (self.cfg.require("client_id")?, self.cfg.require("client_secret")?);
        let url = self.url("/v3/token");
        let res = self
            .http
            .send(|c| {
                c.post(&url)
                    .basic_auth(id, Some(secret))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .header("WM_QOS.CORRELATION_ID", correlation_id())
                    .header("WM_SVC.NAME", SERVICE_NAME)
                    .body("grant_type=client_credentials")
            })
            .await?;
        if !res.status().is_success() {
            let status = res.status();
            let bytes = res.bytes().await.unwrap_or_default();
            return Err(ChannelError::permanent(format!("Walmart token: {status}: {}", describe(&bytes))));
        }
        let answer: TokenAnswer = json(res).await?;
        Ok(Granted { access_token: answer.access_token, expires_in_s: answer.expires_in })
    }

    /// One call to `api` with the headers Walmart requires, after any pause
    /// that API's last answer asked for. A 401 (the token expired early)
    /// drops the token and tries once more with a fresh one.
    async fn call(
        &self,
        api: &Api,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Response, ChannelError> {
        let url = self.url(path_and_query);
        for attempt in 0..2 {
            api.replenish.wait(self.http.policy().max_retry_after).await?;
            let token = self.access_token().await?;
            let res = self
                .http
                .send_op(&api.pace, |c| {
                    let req = c
                        .request(method.clone(), &url)
                        .header("WM_SEC.ACCESS_TOKEN", &token)
                        .header("WM_QOS.CORRELATION_ID", correlation_id())
                        .header("WM_SVC.NAME", SERVICE_NAME)
                        .header("accept", "application/json");
                    match &body {
                        Some(b) => req.header("content-type", "application/json").body(b.clone()),
                        None => req,
                    }
                })
                .await?;
            api.replenish.observe(&res);
            if res.status().is_success() {
                return Ok(res);
            }
            let status = res.status();
            if status == StatusCode::UNAUTHORIZED && attempt == 0 {
                self.tokens.invalidate(&token).await;
                continue;
            }
            let bytes = res.bytes().await.unwrap_or_default();
            let path = path_and_query.split('?').next().unwrap_or_default();
            return Err(ChannelError::permanent(format!("Walmart {path}: {status}: {}", describe(&bytes))));
        }
        Err(ChannelError::permanent("Walmart refused a freshly issued access token"))
    }

    /// Waits until a push call may go out and takes its place in the rate
    /// limits (see `HttpClient::ready`).
    pub async fn push_ready(&self) {
        self.http.ready(Some(&self.inventory_api.pace)).await;
    }

    /// Sends quantities, one PUT per SKU; one result per entry, in order.
    pub async fn push(&self, entries: &[PushEntry]) -> Vec<PushResult> {
        let mut results = Vec::with_capacity(entries.len());
        for e in entries {
            results.push(self.put_quantity(e).await);
        }
        results
    }

    async fn put_quantity(&self, e: &PushEntry) -> PushResult {
        let body = json!({ "sku": e.channel_sku, "quantity": { "unit": "EACH", "amount": e.quantity.max(0) } });
        let body = serde_json::to_vec(&body).map_err(|err| ChannelError::permanent(format!("encoding: {err}")))?;
        let query = serde_urlencoded::to_string([("sku", &e.channel_sku)])
            .map_err(|err| ChannelError::permanent(format!("encoding the query: {err}")))?
            .replace('+', "%20");
        let res =
            self.call(&self.inventory_api, Method::PUT, &format!("/v3/inventory?{query}"), Some(body)).await.map_err(
                |err| ChannelError { message: format!("Walmart SKU {}: {}", e.channel_sku, err.message), ..err },
            )?;
        #[derive(Deserialize)]
        struct Echo {
            sku: String,
        }
        let echo: Echo = json(res).await?;
        if echo.sku != e.channel_sku {
            return Err(ChannelError::bad_response(format!("Walmart answered SKU {} for {}", echo.sku, e.channel_sku)));
        }
        Ok(())
    }

    /// Every SKU with its quantity summed over ship nodes (`inputQty`).
    pub async fn fetch_listings(&self) -> Result<Vec<RemoteListing>, ChannelError> {
        let mut listings = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..LISTINGS_PAGES_MAX {
            let mut query = vec![("limit", LISTINGS_PAGE_SIZE.to_string())];
            if let Some(c) = &cursor {
                query.push(("nextCursor", c.clone()));
            }
            let query = serde_urlencoded::to_string(query).unwrap_or_default();
            let page: Inventories =
                json(self.call(&self.inventory_api, Method::GET, &format!("/v3/inventories?{query}"), None).await?)
                    .await?;
            for inv in page.elements.map(|e| e.inventories).unwrap_or_default() {
                let total: f64 = inv.nodes.iter().filter_map(|n| n.input_qty.as_ref()).map(|q| q.amount).sum();
                listings.push(RemoteListing { channel_sku: inv.sku, external_id: None, quantity: Some(total as i64) });
            }
            match page.meta.and_then(|m| m.next_cursor).filter(|c| !c.is_empty()) {
                Some(next) => cursor = Some(next),
                None => return Ok(listings),
            }
        }
        Err(ChannelError::bad_response(format!("Walmart inventories: more than {LISTINGS_PAGES_MAX} pages")))
    }
}
