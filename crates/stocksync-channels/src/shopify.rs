//! Shopify through the Admin GraphQL API, version 2025-01 (pinned: Shopify
//! renames inputs between versions). Orders: `orders` by `updated_at`
//! window, polled and also received as signed webhooks. Quantities:
//! `inventorySetQuantities`, absolute `available` at the location in
//! `credentials.location_id`, with per-entry `userErrors`. Listings:
//! `productVariants`. Auth: `X-Shopify-Access-Token`.

mod graphql;
mod orders;
pub mod queries;
pub mod webhook;

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::connector::WebhookEvent;
use crate::http::{HttpClient, Limits, RetryPolicy};
use crate::model::{ChannelConfig, ChannelError, PushEntry, PushResult, RemoteListing};

pub const API_VERSION: &str = "2025-01";
/// Quantities per `inventorySetQuantities` call: Shopify caps input arrays
/// at 250 items [doc: usage/limits].
pub const PUSH_BATCH_MAX: usize = 250;
/// GraphQL is limited by query cost, read from every answer; this request
/// rate is only a backstop, well above what the cost bucket lets through.
const LIMITS: Limits = Limits { per_second: 10, burst: 20 };
/// Variants per page: 2 + 250 × (1 + 1) + 1 = 503 points.
const VARIANTS_PAGE_SIZE: u32 = 250;
/// Variant pages at most: 400 × 250 = 100,000 variants.
const VARIANT_PAGES_MAX: usize = 400;
/// Times one push is sent again without the entries Shopify refused: if a
/// refusal stops the whole mutation, the other entries still land.
const PUSH_ROUNDS_MAX: usize = 3;

#[derive(Debug, Clone)]
pub struct ShopifyConnector {
    cfg: ChannelConfig,
    http: HttpClient,
    policy: RetryPolicy,
    bucket: graphql::Bucket,
}

/// A Relay connection page.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection<T> {
    page_info: PageInfo,
    nodes: Vec<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

/// The numeric tail of a GID (`gid://shopify/LineItem/123` → `123`), the
/// form REST webhooks use.
pub fn gid_tail(gid: &str) -> &str {
    gid.rsplit('/').next().unwrap_or(gid)
}

/// A GID from a stored id that may be the bare number.
pub fn gid(kind: &str, id: &str) -> String {
    if id.starts_with("gid://") { id.to_owned() } else { format!("gid://shopify/{kind}/{id}") }
}

impl ShopifyConnector {
    pub fn new(cfg: ChannelConfig, policy: RetryPolicy) -> Result<Self, ChannelError> {
        Ok(Self { http: HttpClient::new(LIMITS, policy)?, cfg, policy, bucket: graphql::Bucket::default() })
    }

    fn endpoint(&self) -> String {
        format!("{}/admin/api/{API_VERSION}/graphql.json", self.cfg.base_url.trim_end_matches('/'))
    }

    pub fn verify_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<WebhookEvent, ChannelError> {
        webhook::verify(&self.cfg, headers, body)
    }

    /// Every variant with a SKU: its inventory item id (what a push needs)
    /// and its quantity summed over locations.
    pub async fn fetch_listings(&self) -> Result<Vec<RemoteListing>, ChannelError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            product_variants: Connection<Variant>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Variant {
            sku: Option<String>,
            inventory_quantity: Option<i64>,
            inventory_item: Item,
        }
        #[derive(Deserialize)]
        struct Item {
            id: String,
        }
        let mut listings = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..VARIANT_PAGES_MAX {
            let page: Data =
                self.graphql(queries::VARIANTS, json!({ "first": VARIANTS_PAGE_SIZE, "after": after })).await?;
            listings.extend(page.product_variants.nodes.into_iter().filter_map(|v| {
                let sku = v.sku.filter(|s| !s.is_empty())?;
                Some(RemoteListing {
                    channel_sku: sku,
                    external_id: Some(v.inventory_item.id),
                    quantity: v.inventory_quantity,
                })
            }));
            let info = page.product_variants.page_info;
            if !info.has_next_page {
                return Ok(listings);
            }
            after = Some(info.end_cursor.ok_or_else(|| ChannelError::bad_response("Shopify variants: no endCursor"))?);
        }
        Err(ChannelError::bad_response(format!("Shopify variants: more than {VARIANT_PAGES_MAX} pages")))
    }

    /// Waits until the cost bucket holds a mutation (by the last answer's
    /// `throttleStatus`; slower while a read waits for its price) and the
    /// request limiter lets one out, taking its place.
    pub async fn push_ready(&self) {
        tokio::time::sleep(self.bucket.mutation_wait()).await;
        self.http.ready(None).await;
    }

    /// Sends quantities; one result per entry, in order. An entry without an
    /// inventory item id fails alone: the listing needs its id first.
    pub async fn push(&self, entries: &[PushEntry]) -> Vec<PushResult> {
        let mut results: Vec<Option<PushResult>> = entries
            .iter()
            .map(|e| match e.external_id.as_deref().filter(|id| !id.is_empty()) {
                Some(_) => None,
                None => Some(Err(ChannelError::permanent(format!(
                    "Shopify listing {} has no inventory item id; read the channel's listings first",
                    e.channel_sku
                )))),
            })
            .collect();
        for chunk_start in (0..entries.len()).step_by(PUSH_BATCH_MAX) {
            let end = (chunk_start + PUSH_BATCH_MAX).min(entries.len());
            let pending: Vec<usize> = (chunk_start..end).filter(|&i| results[i].is_none()).collect();
            self.push_rounds(entries, pending, &mut results).await;
        }
        results.into_iter().map(|r| r.unwrap_or_else(|| Err(ChannelError::bad_response("no result")))).collect()
    }

    async fn push_rounds(&self, entries: &[PushEntry], mut pending: Vec<usize>, results: &mut [Option<PushResult>]) {
        for _ in 0..PUSH_ROUNDS_MAX {
            if pending.is_empty() {
                return;
            }
            match self.set_quantities(entries, &pending).await {
                Ok(refused) if refused.is_empty() => {
                    pending.iter().for_each(|&i| results[i] = Some(Ok(())));
                    return;
                }
                Ok(refused) => {
                    for (at, error) in refused {
                        match at.and_then(|k| pending.get(k)) {
                            Some(&i) => results[i] = Some(Err(error)),
                            // An error that names no entry refuses them all.
                            None => pending.iter().for_each(|&i| results[i] = Some(Err(error.clone()))),
                        }
                    }
                    pending.retain(|&i| results[i].is_none());
                }
                Err(e) => {
                    pending.iter().for_each(|&i| results[i] = Some(Err(e.clone())));
                    return;
                }
            }
        }
        let gave_up = ChannelError::transient("Shopify kept refusing other entries of this push");
        pending.iter().for_each(|&i| results[i] = Some(Err(gave_up.clone())));
    }

    /// One `inventorySetQuantities`: the refusals, by position in `pending`.
    async fn set_quantities(
        &self,
        entries: &[PushEntry],
        pending: &[usize],
    ) -> Result<Vec<(Option<usize>, ChannelError)>, ChannelError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            inventory_set_quantities: Option<Payload>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Payload {
            user_errors: Vec<UserError>,
        }
        #[derive(Deserialize)]
        struct UserError {
            field: Option<Vec<String>>,
            message: String,
            code: Option<String>,
        }
        let location = gid("Location", self.cfg.require("location_id")?);
        let quantities: Vec<Value> = pending
            .iter()
            .map(|&i| {
                let e = &entries[i];
                let item = gid("InventoryItem", e.external_id.as_deref().unwrap_or_default());
                json!({ "inventoryItemId": item, "locationId": location, "quantity": e.quantity.max(0) })
            })
            .collect();
        let input = json!({
            "name": "available",
            "reason": "correction",
            "ignoreCompareQuantity": true,
            "quantities": quantities,
        });
        let data: Data = self.graphql(queries::SET_QUANTITIES, json!({ "input": input })).await?;
        let payload = data.inventory_set_quantities.ok_or_else(|| ChannelError::bad_response("no payload"))?;
        Ok(payload
            .user_errors
            .into_iter()
            .map(|u| {
                // `field` is a path such as ["input", "quantities", "3", "inventoryItemId"].
                let field = u.field.unwrap_or_default();
                let at = match field.as_slice() {
                    [input, list, index, ..] if input == "input" && list == "quantities" => index.parse().ok(),
                    _ => None,
                };
                let code = u.code.unwrap_or_default();
                let message = format!("Shopify {code} at {}: {}", field.join("."), u.message);
                (at, ChannelError::permanent(message))
            })
            .collect())
    }
}
