//! eBay: orders from the Sell Fulfillment API (`getOrders`, polled by a
//! last-modified window with offset paging), quantities through the Sell
//! Inventory API (`bulkUpdatePriceQuantity`, per-entry results), listings
//! from `getInventoryItems`. Every call carries `Authorization: Bearer
//! {credentials.access_token}`. eBay's push notifications are ECDSA-signed
//! with a key fetched per `kid`; stocksync polls eBay instead.

mod cap;
mod orders;
mod push;

use reqwest::Response;
use serde::Deserialize;

pub use cap::{REVISIONS_PER_LISTING_PER_DAY, REVISIONS_RESERVED_FOR_ZERO, RevisionCap};

use crate::clock::Clock;
use crate::http::{HttpClient, Limits, RetryPolicy, json};
use crate::model::{ChannelConfig, ChannelError, RemoteListing};

/// Entries per `bulkUpdatePriceQuantity` call: its `requests` array holds at
/// most 25 [spec].
pub const PUSH_BATCH_MAX: usize = 25;
/// eBay publishes no per-second rate, only daily per-app and per-user call
/// quotas (read through the Analytics API's `rate_limit` resources). 20
/// requests/s (1.7 M a day if sustained, which only a flash sale does) lets
/// pushes keep up with 500 changed SKUs a second (25 per call) while a
/// poller runs beside them; a seller with a smaller quota sees 429s, which
/// the client obeys.
const LIMITS: Limits = Limits { per_second: 20, burst: 20 };
/// Inventory items per `getInventoryItems` page: the documented maximum [spec].
const LISTINGS_PAGE_SIZE: u32 = 200;
/// Pages of inventory items read at most: 200 × 500 = 100,000 SKUs, more than
/// any seller stocksync serves; a `next` chain longer than that is a loop.
const LISTINGS_PAGES_MAX: usize = 500;

#[derive(Debug, Clone)]
pub struct EbayConnector {
    cfg: ChannelConfig,
    http: HttpClient,
    cap: RevisionCap,
    clock: Clock,
}

impl EbayConnector {
    pub fn new(cfg: ChannelConfig, policy: RetryPolicy) -> Result<Self, ChannelError> {
        Ok(Self { http: HttpClient::new(LIMITS, policy)?, cfg, cap: RevisionCap::default(), clock: Clock::system() })
    }

    /// The same connector reading `clock` (tests cross midnight with it).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Revisions of `sku` counted today (UTC), for the daily cap.
    pub fn revisions_today(&self, sku: &str) -> u32 {
        self.cap.used(sku, self.clock.now())
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.cfg.base_url.trim_end_matches('/'))
    }

    fn token(&self) -> Result<&str, ChannelError> {
        self.cfg.require("access_token")
    }

    async fn get(&self, path_and_query: &str) -> Result<Response, ChannelError> {
        let token = self.token()?;
        let url = self.url(path_and_query);
        let res = self.http.send(|c| c.get(&url).bearer_auth(token).header("accept", "application/json")).await?;
        ok_or_ebay_error(res).await
    }

    /// Every inventory item with its ship-to-location quantity. Pages are
    /// followed through `next`: the spec calls `offset` a page number here,
    /// unlike `getOrders`, and `next` is right under either reading.
    pub async fn fetch_listings(&self) -> Result<Vec<RemoteListing>, ChannelError> {
        let mut path = format!("/sell/inventory/v1/inventory_item?limit={LISTINGS_PAGE_SIZE}&offset=0");
        let mut listings = Vec::new();
        for _ in 0..LISTINGS_PAGES_MAX {
            let page: InventoryItems = json(self.get(&path).await?).await?;
            listings.extend(page.inventory_items.into_iter().map(|item| RemoteListing {
                channel_sku: item.sku,
                external_id: None,
                quantity: item.availability.and_then(|a| a.ship_to_location_availability).and_then(|s| s.quantity),
            }));
            match page.next.filter(|n| !n.is_empty()) {
                Some(next) => path = same_host_path(&next)?,
                None => return Ok(listings),
            }
        }
        Err(ChannelError::bad_response(format!("eBay inventory items: more than {LISTINGS_PAGES_MAX} pages")))
    }
}

/// The path and query of a `next` link. The host is dropped on purpose: the
/// bearer token only ever goes to the configured `base_url`.
fn same_host_path(next: &str) -> Result<String, ChannelError> {
    if next.starts_with('/') {
        return Ok(next.to_owned());
    }
    let url =
        reqwest::Url::parse(next).map_err(|e| ChannelError::bad_response(format!("eBay next link {next:?}: {e}")))?;
    Ok(match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InventoryItems {
    #[serde(default)]
    inventory_items: Vec<InventoryItem>,
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
struct InventoryItem {
    sku: String,
    availability: Option<Availability>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Availability {
    ship_to_location_availability: Option<ShipTo>,
}

#[derive(Debug, Deserialize)]
struct ShipTo {
    quantity: Option<i64>,
}

/// eBay's error container (`errors[]`), in error answers and per entry.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub errors: Vec<EbayError>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EbayError {
    pub error_id: Option<i64>,
    pub message: Option<String>,
    pub long_message: Option<String>,
}

/// `errorId message; …` for an error message.
pub(crate) fn describe(errors: &[EbayError]) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| {
            let text = e.long_message.as_deref().or(e.message.as_deref()).unwrap_or("no message");
            match e.error_id {
                Some(id) => format!("{id} {text}"),
                None => text.to_owned(),
            }
        })
        .collect();
    if parts.is_empty() { "no error details".into() } else { parts.join("; ") }
}

/// Passes a 2xx through; otherwise a permanent error naming eBay's
/// `errors[]` (429 and 5xx never get here: the HTTP layer handles them).
async fn ok_or_ebay_error(res: Response) -> Result<Response, ChannelError> {
    if res.status().is_success() {
        return Ok(res);
    }
    let status = res.status();
    let path = res.url().path().to_owned();
    let bytes = res.bytes().await.unwrap_or_default();
    let detail = match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) if !body.errors.is_empty() => describe(&body.errors),
        _ => String::from_utf8_lossy(&bytes).chars().take(300).collect(),
    };
    Err(ChannelError::permanent(format!("eBay {path}: {status}: {detail}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_keep_only_path_and_query() {
        let p = same_host_path("https://api.ebay.com/sell/inventory/v1/inventory_item?offset=1&limit=200").unwrap();
        assert_eq!(p, "/sell/inventory/v1/inventory_item?offset=1&limit=200");
        assert_eq!(same_host_path("/x?y=1").unwrap(), "/x?y=1");
        assert!(same_host_path("not a url").is_err());
    }
}
