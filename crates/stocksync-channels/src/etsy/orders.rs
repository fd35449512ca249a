//! Receipts by `min_last_modified`/`max_last_modified` (unix seconds,
//! inclusive), 100 per page by `offset`, read through `paging::all_pages`
//! (pages can move while orders change). A transaction is a line: its SKU
//! (or, without one, its listing id) and quantity.

use reqwest::Method;
use serde::Deserialize;
use stocksync_core::Timestamp;
use stocksync_core::order::SourceStatus;

use super::{EtsyConnector, PAGE_SIZE};
use crate::http::json;
use crate::model::{ChannelError, RemoteLine, RemoteOrder};
use crate::paging::{self, Page};

/// Pages read in one pass at most: 500 × 100 = 50,000 receipts in one window.
const RECEIPT_PAGES_MAX: u64 = 500;

#[derive(Debug, Deserialize)]
struct Receipts {
    count: u64,
    #[serde(default)]
    results: Vec<Receipt>,
}

#[derive(Debug, Deserialize)]
struct Receipt {
    receipt_id: u64,
    status: Option<String>,
    #[serde(default)]
    is_shipped: bool,
    created_timestamp: i64,
    updated_timestamp: i64,
    #[serde(default)]
    transactions: Vec<Transaction>,
}

#[derive(Debug, Deserialize)]
struct Transaction {
    transaction_id: u64,
    listing_id: Option<u64>,
    sku: Option<String>,
    quantity: i64,
}

impl EtsyConnector {
    /// Receipts whose `updated_timestamp` is in `[since, until)`, every page.
    pub async fn fetch_orders(&self, since: Timestamp, until: Timestamp) -> Result<Vec<RemoteOrder>, ChannelError> {
        // Etsy keeps whole seconds: the window starts at one (see WooCommerce).
        let since = Timestamp(since.millis().div_euclid(1000) * 1000);
        let shop = self.shop()?;
        let (min_s, max_s) = (since.millis().div_euclid(1000), until.millis().div_euclid(1000));
        let base = format!(
            "/shops/{shop}/receipts?min_last_modified={min_s}&max_last_modified={max_s}&sort_on=updated&sort_order=asc&limit={PAGE_SIZE}"
        );
        let base = &base;
        paging::all_pages("Etsy receipts", RECEIPT_PAGES_MAX, since, until, |index| async move {
            let offset = index * PAGE_SIZE;
            let page: Receipts =
                json(self.call(Method::GET, &format!("{base}&offset={offset}"), None, false).await?).await?;
            let orders = page.results.into_iter().map(map_receipt).collect::<Result<Vec<_>, _>>()?;
            let more = !orders.is_empty() && offset + (orders.len() as u64) < page.count;
            Ok(Page { total: page.count, more, orders })
        })
        .await
    }
}

fn map_receipt(r: Receipt) -> Result<RemoteOrder, ChannelError> {
    let id = r.receipt_id;
    let status = match r.status.as_deref() {
        Some("canceled") => SourceStatus::Cancelled,
        // A refund does not put units back on the shelf by itself: a
        // refunded receipt keeps its units deducted, as a shipped one does.
        Some("completed" | "fully refunded") => SourceStatus::Shipped,
        _ if r.is_shipped => SourceStatus::Shipped,
        _ => SourceStatus::Open,
    };
    let mut lines = Vec::with_capacity(r.transactions.len());
    for (i, t) in r.transactions.into_iter().enumerate() {
        let quantity = u32::try_from(t.quantity).map_err(|_| {
            ChannelError::bad_response(format!("Etsy receipt {id}: transactions[{i}].quantity is {}", t.quantity))
        })?;
        let channel_sku =
            t.sku.filter(|s| !s.is_empty()).or_else(|| t.listing_id.map(|l| l.to_string())).unwrap_or_default();
        lines.push(RemoteLine { line_id: t.transaction_id.to_string(), channel_sku, quantity });
    }
    Ok(RemoteOrder {
        external_id: id.to_string(),
        status,
        placed_at: Timestamp(r.created_timestamp.saturating_mul(1000)),
        updated_at: Timestamp(r.updated_timestamp.saturating_mul(1000)),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(json: serde_json::Value) -> Result<RemoteOrder, ChannelError> {
        map_receipt(serde_json::from_value(json).unwrap())
    }

    #[test]
    fn maps_statuses_seconds_and_lines_without_skus() {
        let r = receipt(serde_json::json!({
            "receipt_id": 9, "status": "canceled", "is_shipped": false, "created_timestamp": 1_700_000_000,
            "updated_timestamp": 1_700_000_060,
            "transactions": [{ "transaction_id": 1, "listing_id": 55, "sku": "", "quantity": 2 }]
        }))
        .unwrap();
        assert_eq!((r.status, r.updated_at.millis() - r.placed_at.millis()), (SourceStatus::Cancelled, 60_000));
        assert_eq!(r.lines[0].channel_sku, "55");
        let paid = serde_json::json!({ "receipt_id": 10, "status": "paid", "is_shipped": true,
            "created_timestamp": 1, "updated_timestamp": 1 });
        assert_eq!(receipt(paid).unwrap().status, SourceStatus::Shipped);
        let bad = receipt(serde_json::json!({ "receipt_id": 11, "created_timestamp": 1, "updated_timestamp": 1,
            "transactions": [{ "transaction_id": 1, "quantity": -2 }] }))
        .unwrap_err();
        assert!(bad.message.contains("transactions[0].quantity"), "{bad}");
    }
}
