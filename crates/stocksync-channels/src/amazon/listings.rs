//! Listings Items 2021-08-01: quantities through `patchListingsItem`, one
//! call per SKU, `{"op":"merge","path":"/attributes/fulfillment_availability",
//! "value":[{"fulfillment_channel_code":"DEFAULT","quantity":N}]}` (a merge
//! leaves `restock_date` and `lead_time_to_ship_max_days` alone); each answer's
//! `status` and `issues` make that entry's result. Listings come from
//! `searchListingsItems`: SKU, product type and `DEFAULT` quantity.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::{AmazonConnector, path_segment};
use crate::http::json;
use crate::model::{ChannelError, ErrorKind, PushEntry, PushResult, RemoteListing};

/// Entries per push: two seconds of patchListingsItem's 5/s budget, one
/// call each; a longer batch would hold the push worker for longer.
pub const PUSH_BATCH_MAX: usize = 10;
/// The product type sent when the listing's is unknown. Amazon accepts the
/// generic `PRODUCT` for offer-only attributes such as fulfillment availability.
const DEFAULT_PRODUCT_TYPE: &str = "PRODUCT";
/// Merchant-fulfilled stock; Amazon-fulfilled (FBA) quantities are Amazon's to set.
const CHANNEL_CODE: &str = "DEFAULT";
/// `searchListingsItems` page size: the documented maximum [spec].
const LISTINGS_PAGE_SIZE: u32 = 20;
/// Pages read at most: 5,000 × 20 = 100,000 SKUs.
const LISTINGS_PAGES_MAX: usize = 5_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Submission {
    status: Option<String>,
    #[serde(default)]
    issues: Vec<Issue>,
}

#[derive(Debug, Deserialize)]
struct Issue {
    code: String,
    message: String,
    severity: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchResults {
    #[serde(default)]
    items: Vec<Item>,
    pagination: Option<Pagination>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    sku: String,
    #[serde(default)]
    summaries: Vec<Summary>,
    #[serde(default)]
    fulfillment_availability: Vec<Availability>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    product_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Availability {
    fulfillment_channel_code: String,
    quantity: Option<i64>,
}

impl AmazonConnector {
    /// Waits until a push call may go out and takes its place in the rate
    /// limits (see `HttpClient::ready`).
    pub async fn push_ready(&self) {
        self.http.ready(Some(&self.ops.patch_listings_item)).await;
    }

    /// Sends quantities, one PATCH per entry; one result per entry, in order.
    /// A listing's external id, when set, is its product type.
    pub async fn push(&self, entries: &[PushEntry]) -> Vec<PushResult> {
        let mut results = Vec::with_capacity(entries.len());
        for e in entries {
            results.push(self.patch_quantity(e).await);
        }
        results
    }

    async fn patch_quantity(&self, e: &PushEntry) -> PushResult {
        let seller = self.cfg.require("seller_id")?;
        let product_type = e.external_id.as_deref().filter(|t| !t.is_empty()).unwrap_or(DEFAULT_PRODUCT_TYPE);
        let body = json!({
            "productType": product_type,
            "patches": [{
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{ "fulfillment_channel_code": CHANNEL_CODE, "quantity": e.quantity.max(0) }],
            }],
        });
        let body = serde_json::to_vec(&body).map_err(|err| ChannelError::permanent(format!("encoding: {err}")))?;
        let query = serde_urlencoded::to_string([("marketplaceIds", self.marketplace()?), ("issueLocale", "en_US")])
            .map_err(|err| ChannelError::permanent(format!("encoding the query: {err}")))?;
        let path =
            format!("/listings/2021-08-01/items/{}/{}?{query}", path_segment(seller), path_segment(&e.channel_sku));
        let res = self
            .call(&self.ops.patch_listings_item, Method::PATCH, &path, Some(body))
            .await
            .map_err(|err| ChannelError { message: format!("Amazon SKU {}: {}", e.channel_sku, err.message), ..err })?;
        let submission: Submission = json(res).await?;
        submission_result(&e.channel_sku, &submission)
    }

    /// Every listing of the seller in the marketplace: SKU, product type (as
    /// the external id, what a patch names) and merchant-fulfilled quantity.
    pub async fn fetch_listings(&self) -> Result<Vec<RemoteListing>, ChannelError> {
        let seller = path_segment(self.cfg.require("seller_id")?);
        let base = serde_urlencoded::to_string([
            ("marketplaceIds", self.marketplace()?.to_owned()),
            ("includedData", "summaries,fulfillmentAvailability".to_owned()),
            ("pageSize", LISTINGS_PAGE_SIZE.to_string()),
        ])
        .map_err(|e| ChannelError::permanent(format!("encoding the query: {e}")))?;
        let mut listings = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..LISTINGS_PAGES_MAX {
            let mut query = base.clone();
            if let Some(t) = &token {
                query.push('&');
                query.push_str(&serde_urlencoded::to_string([("pageToken", t)]).unwrap_or_default());
            }
            let path = format!("/listings/2021-08-01/items/{seller}?{query}");
            let res = self.call(&self.ops.search_listings_items, Method::GET, &path, None).await?;
            let page: SearchResults = json(res).await?;
            listings.extend(page.items.into_iter().map(|item| {
                RemoteListing {
                    external_id: item.summaries.into_iter().find_map(|s| s.product_type),
                    quantity: item
                        .fulfillment_availability
                        .iter()
                        .find(|a| a.fulfillment_channel_code == CHANNEL_CODE)
                        .and_then(|a| a.quantity),
                    channel_sku: item.sku,
                }
            }));
            match page.pagination.and_then(|p| p.next_token).filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => return Ok(listings),
            }
        }
        Err(ChannelError::bad_response(format!("Amazon listings: more than {LISTINGS_PAGES_MAX} pages")))
    }
}

/// ACCEPTED (or VALID) without ERROR issues succeeds; anything else fails
/// for good: Amazon found the submission itself wrong.
fn submission_result(sku: &str, s: &Submission) -> PushResult {
    let errors: Vec<String> =
        s.issues.iter().filter(|i| i.severity == "ERROR").map(|i| format!("{} {}", i.code, i.message)).collect();
    match s.status.as_deref() {
        Some("ACCEPTED" | "VALID") if errors.is_empty() => Ok(()),
        status => Err(ChannelError {
            kind: ErrorKind::Permanent,
            message: format!("Amazon SKU {sku}: {}: {}", status.unwrap_or("no status"), errors.join("; ")),
        }),
    }
}
