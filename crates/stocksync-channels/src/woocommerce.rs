//! WooCommerce through its REST API v3 (`/wp-json/wc/v3`). Orders: polled
//! by `modified_after`/`modified_before` with numbered pages
//! (`X-WP-TotalPages`), and received as `order.created`/`order.updated`
//! webhooks signed with `X-WC-Webhook-Signature`. Quantities: the products
//! and variations batch endpoints (`stock_quantity`, per-item `error`s).
//! Listings: products, and the variations of variable products. Auth: HTTP
//! Basic with the consumer key and secret (WooCommerce's scheme over HTTPS).

mod orders;
mod push;
pub mod webhook;

use reqwest::Response;
use serde::Deserialize;

use crate::connector::WebhookEvent;
use crate::http::{HttpClient, Limits, OpLimit, RetryPolicy, json};
use crate::model::{ChannelConfig, ChannelError, RemoteListing};

pub const API_PREFIX: &str = "/wp-json/wc/v3";
/// Updates per batch call: WooCommerce's batch endpoints take at most 100
/// objects by default [doc: _introduction.md, batch operations].
pub const PUSH_BATCH_MAX: usize = 100;
/// Items per page: the WordPress REST maximum for `per_page` [doc].
pub const PAGE_SIZE: u64 = 100;
/// WooCommerce core has no rate limit; the store's host does (PHP workers
/// are few, a WAF may answer 429 or 503). 5 requests/s, burst 10, keeps a
/// small shared host responsive while pushes of 100 SKUs per call keep up.
const LIMITS: Limits = Limits { per_second: 5, burst: 10 };
/// Reads (order polls, the safety net behind webhooks, and listing reads)
/// take at most 2 of those 5 a second, so pushes always have 3 (300 SKUs a
/// second): a poll re-reading minutes of orders must not hold quantities back.
const READS_PER_SECOND: f64 = 2.0;
const READS_BURST: u32 = 2;
/// Product pages read at most: 1,000 × 100 = 100,000 products; a longer
/// chain of pages is a loop.
const PRODUCT_PAGES_MAX: u64 = 1_000;
/// Variation pages of one product at most: 100 × 100 (WooCommerce itself
/// refuses more than 100 variations per product by default).
const VARIATION_PAGES_MAX: u64 = 100;

#[derive(Debug, Clone)]
pub struct WooConnector {
    cfg: ChannelConfig,
    http: HttpClient,
    reads: OpLimit,
}

/// WooCommerce's error body, a WP_Error: `{code, message, data:{status}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct WpError {
    pub code: Option<String>,
    pub message: Option<String>,
}

impl WpError {
    pub fn describe(&self) -> String {
        format!("{} {}", self.code.as_deref().unwrap_or("error"), self.message.as_deref().unwrap_or("no message"))
    }
}

#[derive(Debug, Deserialize)]
struct Product {
    id: u64,
    #[serde(default)]
    sku: String,
    #[serde(rename = "type", default)]
    kind: String,
    stock_quantity: Option<i64>,
}

impl WooConnector {
    pub fn new(cfg: ChannelConfig, policy: RetryPolicy) -> Result<Self, ChannelError> {
        Ok(Self { http: HttpClient::new(LIMITS, policy)?, cfg, reads: OpLimit::new(READS_PER_SECOND, READS_BURST) })
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{API_PREFIX}{path_and_query}", self.cfg.base_url.trim_end_matches('/'))
    }

    fn keys(&self) -> Result<(&str, &str), ChannelError> {
        Ok((self.cfg.require("consumer_key")?, self.cfg.require("consumer_secret")?))
    }

    async fn get(&self, path_and_query: &str) -> Result<Response, ChannelError> {
        let (key, secret) = self.keys()?;
        let url = self.url(path_and_query);
        let res = self.http.send_op(&self.reads, |c| c.get(&url).basic_auth(key, Some(secret))).await?;
        ok_or_wp_error(res).await
    }

    async fn post_json(&self, path: &str, body: &serde_json::Value) -> Result<Response, ChannelError> {
        let (key, secret) = self.keys()?;
        let url = self.url(path);
        let body = serde_json::to_vec(body).map_err(|e| ChannelError::permanent(format!("encoding: {e}")))?;
        let res = self
            .http
            .send(|c| {
                c.post(&url).basic_auth(key, Some(secret)).header("content-type", "application/json").body(body.clone())
            })
            .await?;
        ok_or_wp_error(res).await
    }

    pub fn verify_webhook(&self, headers: &axum::http::HeaderMap, body: &[u8]) -> Result<WebhookEvent, ChannelError> {
        webhook::verify(&self.cfg, headers, body)
    }

    /// Every product and variation with a SKU. A simple product's external
    /// id is its id; a variation's is `parent_id/variation_id`, what the
    /// variations batch endpoint needs.
    pub async fn fetch_listings(&self) -> Result<Vec<RemoteListing>, ChannelError> {
        let mut listings = Vec::new();
        let mut variable = Vec::new();
        for page in 1..=PRODUCT_PAGES_MAX {
            let res = self.get(&format!("/products?per_page={PAGE_SIZE}&page={page}")).await?;
            let pages = total_pages(&res);
            let products: Vec<Product> = json(res).await?;
            for p in products {
                if p.kind == "variable" {
                    variable.push(p.id);
                } else if !p.sku.is_empty() {
                    listings.push(listing(p.sku, p.id.to_string(), p.stock_quantity));
                }
            }
            if page >= pages {
                for parent in variable {
                    listings.extend(self.variations(parent).await?);
                }
                return Ok(listings);
            }
        }
        Err(ChannelError::bad_response(format!("WooCommerce products: more than {PRODUCT_PAGES_MAX} pages")))
    }

    async fn variations(&self, parent: u64) -> Result<Vec<RemoteListing>, ChannelError> {
        let mut listings = Vec::new();
        for page in 1..=VARIATION_PAGES_MAX {
            let res = self.get(&format!("/products/{parent}/variations?per_page={PAGE_SIZE}&page={page}")).await?;
            let pages = total_pages(&res);
            let variations: Vec<Product> = json(res).await?;
            listings.extend(
                variations
                    .into_iter()
                    .filter(|v| !v.sku.is_empty())
                    .map(|v| listing(v.sku, format!("{parent}/{}", v.id), v.stock_quantity)),
            );
            if page >= pages {
                return Ok(listings);
            }
        }
        Err(ChannelError::bad_response(format!("WooCommerce product {parent}: more than {VARIATION_PAGES_MAX} pages")))
    }
}

fn listing(sku: String, external_id: String, quantity: Option<i64>) -> RemoteListing {
    RemoteListing { channel_sku: sku, external_id: Some(external_id), quantity }
}

/// `X-WP-TotalPages`, 1 when absent (a single page).
pub(crate) fn total_pages(res: &Response) -> u64 {
    header_number(res, "x-wp-totalpages").unwrap_or(1)
}

pub(crate) fn header_number(res: &Response, name: &str) -> Option<u64> {
    res.headers().get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
}

/// Passes a 2xx through; otherwise a permanent error naming the WP_Error
/// (429 and 5xx never get here: the HTTP layer handles them).
async fn ok_or_wp_error(res: Response) -> Result<Response, ChannelError> {
    if res.status().is_success() {
        return Ok(res);
    }
    let status = res.status();
    let path = res.url().path().to_owned();
    let bytes = res.bytes().await.unwrap_or_default();
    let detail = match serde_json::from_slice::<WpError>(&bytes) {
        Ok(e) if e.code.is_some() => e.describe(),
        _ => String::from_utf8_lossy(&bytes).chars().take(300).collect(),
    };
    Err(ChannelError::permanent(format!("WooCommerce {path}: {status}: {detail}")))
}
