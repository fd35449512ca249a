//! Etsy through Open API v3. Orders: `getShopReceipts` by
//! `min_last_modified`/`max_last_modified` (unix seconds) with offset paging;
//! each transaction carries a SKU and quantity; `status: canceled` cancels.
//! Quantities: a listing's inventory is one document, so a push is a
//! read-modify-write: `GET /listings/{listing_id}/inventory`, change the
//! SKU's offering quantities, `PUT` the document back without the keys Etsy
//! only reads. A listing's external id is its `listing_id`. Listings:
//! `getListingsByShop` with `includes=Inventory`. Auth: `x-api-key:
//! keystring:shared_secret` on every call plus the OAuth bearer token.
//! Etsy allows 10 requests a second and 10,000 a day per app; the day's
//! budget is read from every answer (`budget`).

mod budget;
mod inventory;
mod orders;

use reqwest::{Method, Response};
use serde::Deserialize;

pub use budget::{DAY_EXHAUSTED_PAUSE, DayBudget, ZERO_RESERVE_MIN, ZERO_RESERVE_PERCENT};

use crate::clock::Clock;
use crate::http::{HttpClient, Limits, RetryPolicy, json};
use crate::model::{ChannelConfig, ChannelError, ErrorKind, RemoteListing};

pub const API_PREFIX: &str = "/v3/application";
/// Entries per push: entries of one listing share one read and one write,
/// and ten listings are two seconds of Etsy's per-second budget.
pub const PUSH_BATCH_MAX: usize = 10;
/// Etsy's default is 10 requests per second per app [doc: rate-limits]; 9
/// leaves room for timing jitter between our clock and Etsy's window.
const LIMITS: Limits = Limits { per_second: 9, burst: 9 };
/// Listings per page (`limit` is at most 100 [spec]).
const PAGE_SIZE: u64 = 100;
/// Listing pages read at most: 1,000 × 100 = 100,000 listings.
const LISTING_PAGES_MAX: u64 = 1_000;

#[derive(Debug, Clone)]
pub struct EtsyConnector {
    cfg: ChannelConfig,
    http: HttpClient,
    budget: DayBudget,
    clock: Clock,
}

/// Etsy's error body [spec ErrorSchema]: `{error}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
}

#[derive(Debug, Deserialize)]
struct Listings {
    count: u64,
    #[serde(default)]
    results: Vec<Listing>,
}

#[derive(Debug, Deserialize)]
struct Listing {
    listing_id: u64,
    inventory: Option<inventory::Inventory>,
}

impl EtsyConnector {
    pub fn new(cfg: ChannelConfig, policy: RetryPolicy) -> Result<Self, ChannelError> {
        Ok(Self { http: HttpClient::new(LIMITS, policy)?, cfg, budget: DayBudget::default(), clock: Clock::system() })
    }

    /// The same connector reading `clock` (the day's pause is timed with it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn shop(&self) -> Result<&str, ChannelError> {
        self.cfg.require("shop_id")
    }

    /// One call with both credentials, unless the day's budget is spent
    /// (or all but the reserve kept for pushes of zero, unless `zero_push`).
    async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        zero_push: bool,
    ) -> Result<Response, ChannelError> {
        self.budget.check(self.clock.now(), zero_push)?;
        let api_key = format!("{}:{}", self.cfg.require("keystring")?, self.cfg.require("shared_secret")?);
        let token = self.cfg.require("access_token")?;
        let url = format!("{}{API_PREFIX}{path_and_query}", self.cfg.base_url.trim_end_matches('/'));
        let sent = self
            .http
            .send(|c| {
                let req = c.request(method.clone(), &url).header("x-api-key", &api_key).bearer_auth(token);
                match &body {
                    Some(b) => req.header("content-type", "application/json").body(b.clone()),
                    None => req,
                }
            })
            .await;
        let res = match sent {
            Ok(res) => res,
            Err(e) => {
                // A 429 asking for longer than a call may wait is the day's
                // quota: stop calling until then.
                if let ErrorKind::Throttled(Some(after)) = e.kind
                    && after > self.http.policy().max_retry_after
                {
                    self.budget.pause_for(self.clock.now(), after);
                }
                return Err(e);
            }
        };
        self.budget.observe(&res, self.clock.now());
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status();
        let bytes = res.bytes().await.unwrap_or_default();
        let detail = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|e| e.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).chars().take(300).collect());
        let path = path_and_query.split('?').next().unwrap_or_default();
        Err(ChannelError::permanent(format!("Etsy {path}: {status}: {detail}")))
    }

    /// Every active listing's products with a SKU: the listing id (what a
    /// push needs) and the product's quantity summed over its offerings.
    pub async fn fetch_listings(&self) -> Result<Vec<RemoteListing>, ChannelError> {
        let shop = self.shop()?;
        let mut listings = Vec::new();
        for page in 0..LISTING_PAGES_MAX {
            let offset = page * PAGE_SIZE;
            let path =
                format!("/shops/{shop}/listings?state=active&includes=Inventory&limit={PAGE_SIZE}&offset={offset}");
            let answer: Listings = json(self.call(Method::GET, &path, None, false).await?).await?;
            let seen = answer.results.len() as u64;
            for l in answer.results {
                for p in l.inventory.map(|i| i.products).unwrap_or_default() {
                    let Some(sku) = p.sku().filter(|s| !s.is_empty()) else { continue };
                    listings.push(RemoteListing {
                        channel_sku: sku.to_owned(),
                        external_id: Some(l.listing_id.to_string()),
                        quantity: Some(p.quantity()),
                    });
                }
            }
            if seen == 0 || offset + seen >= answer.count {
                return Ok(listings);
            }
        }
        Err(ChannelError::bad_response(format!("Etsy listings: more than {LISTING_PAGES_MAX} pages")))
    }
}
