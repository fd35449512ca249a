//! `getOrders` by last-modified window with offset paging. eBay documents no
//! sort order and the result set can move while it is paged (an order
//! modified mid-poll changes place), so pages are merged by `orderId`,
//! keeping the newest `lastModifiedDate`, and paging repeats until as many
//! distinct orders as `total` have been seen.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use stocksync_core::Timestamp;
use stocksync_core::order::SourceStatus;

use super::EbayConnector;
use crate::http::json;
use crate::model::{ChannelError, RemoteLine, RemoteOrder};

/// Orders per page: the documented maximum [spec].
pub const ORDERS_PAGE_SIZE: u64 = 200;
/// How close to now a window's end may come before it is sent open-ended:
/// well beyond any clock skew between us and eBay.
const OPEN_END_MARGIN_MS: i64 = 5 * 60_000;
/// Pages read in one pass at most: 250 × 200 = 50,000 orders changed in one
/// window. The poller's windows are minutes long; a bigger window is split.
const ORDER_PAGES_MAX: u64 = 250;
/// Times a page whose every order was already seen in this pass is asked
/// again (a served-twice page hides the page that should have come).
const PAGE_REFETCH_MAX: usize = 3;
/// Passes over the pages before giving up on reaching `total` distinct
/// orders; the window's watermark then stays put and the next poll retries.
const PASSES_MAX: usize = 3;

#[derive(Debug, Deserialize)]
struct OrderPage {
    #[serde(default)]
    orders: Vec<Order>,
    #[serde(default)]
    total: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    order_id: String,
    creation_date: String,
    last_modified_date: String,
    order_fulfillment_status: Option<String>,
    cancel_status: Option<CancelStatus>,
    #[serde(default)]
    line_items: Vec<LineItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelStatus {
    cancel_state: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineItem {
    line_item_id: String,
    sku: Option<String>,
    quantity: i64,
    legacy_item_id: Option<String>,
}

impl EbayConnector {
    /// Orders whose `lastModifiedDate` is in `[since, until)`, every page.
    pub async fn fetch_orders(&self, since: Timestamp, until: Timestamp) -> Result<Vec<RemoteOrder>, ChannelError> {
        // eBay's range is inclusive at both ends; the end is trimmed locally
        // so an order modified exactly at `until` belongs to the next window.
        // eBay refuses an end in the future (30850), and its clock may be
        // behind ours: a window ending near now is asked open-ended instead.
        let open_ended = until.millis() > self.clock.now().millis() - OPEN_END_MARGIN_MS;
        let filter = if open_ended {
            format!("lastmodifieddate:[{since}..]")
        } else {
            format!("lastmodifieddate:[{since}..{until}]")
        };
        let mut newest: HashMap<String, RemoteOrder> = HashMap::new();
        let mut total = 0;
        for _ in 0..PASSES_MAX {
            let (first_total, last_total) = self.one_pass(&filter, &mut newest).await?;
            total = last_total;
            // An open-ended window keeps growing while it is read: orders
            // created or modified meanwhile join it, so the last `total` may
            // never match what a pass saw. Those orders are after `until` and
            // trimmed anyway; what must have been seen is what the window
            // held when the pass began.
            let needed = if open_ended { first_total } else { last_total };
            if newest.len() as u64 >= needed {
                let mut orders: Vec<RemoteOrder> =
                    newest.into_values().filter(|o| o.updated_at >= since && o.updated_at < until).collect();
                orders.sort_by(|a, b| (a.updated_at, &a.external_id).cmp(&(b.updated_at, &b.external_id)));
                return Ok(orders);
            }
        }
        Err(ChannelError::transient(format!(
            "eBay getOrders: {} distinct orders seen of total {total} after {PASSES_MAX} passes",
            newest.len()
        )))
    }

    /// Reads every offset once (asking again for pages served twice);
    /// returns the first page's and the last page's `total`.
    async fn one_pass(
        &self,
        filter: &str,
        newest: &mut HashMap<String, RemoteOrder>,
    ) -> Result<(u64, u64), ChannelError> {
        let mut seen_this_pass: HashSet<String> = HashSet::new();
        let mut offset = 0;
        let mut first_total = None;
        for _ in 0..ORDER_PAGES_MAX {
            let mut page = self.order_page(filter, offset).await?;
            for _ in 0..PAGE_REFETCH_MAX {
                let repeated = page.orders.iter().all(|o| seen_this_pass.contains(&o.order_id));
                if offset == 0 || page.orders.is_empty() || !repeated {
                    break;
                }
                page = self.order_page(filter, offset).await?;
            }
            let count = page.orders.len() as u64;
            let first_total = *first_total.get_or_insert(page.total);
            for raw in page.orders {
                let order = map_order(raw)?;
                seen_this_pass.insert(order.external_id.clone());
                merge(newest, order);
            }
            offset += ORDERS_PAGE_SIZE;
            if count == 0 || offset >= page.total {
                return Ok((first_total, page.total));
            }
        }
        Err(ChannelError::permanent(format!(
            "eBay getOrders: more than {} orders in one window; poll a shorter window",
            ORDER_PAGES_MAX * ORDERS_PAGE_SIZE
        )))
    }

    async fn order_page(&self, filter: &str, offset: u64) -> Result<OrderPage, ChannelError> {
        // The query encoder percent-encodes `[`, `]` and `:` as eBay asks.
        let query = serde_urlencoded::to_string([
            ("filter", filter.to_owned()),
            ("limit", ORDERS_PAGE_SIZE.to_string()),
            ("offset", offset.to_string()),
        ])
        .map_err(|e| ChannelError::permanent(format!("encoding the query: {e}")))?;
        json(self.get(&self.orders_api, &format!("/sell/fulfillment/v1/order?{query}")).await?).await
    }
}

/// Keeps the newer of two versions of an order (a later page may carry an
/// older copy of an order that moved).
fn merge(newest: &mut HashMap<String, RemoteOrder>, order: RemoteOrder) {
    match newest.get(&order.external_id) {
        Some(kept) if kept.updated_at >= order.updated_at => {}
        _ => {
            newest.insert(order.external_id.clone(), order);
        }
    }
}

fn map_order(o: Order) -> Result<RemoteOrder, ChannelError> {
    let id = o.order_id;
    let bad = |field: &str, e: String| ChannelError::bad_response(format!("eBay order {id}: {field}: {e}"));
    let time = |field: &str, raw: &str| {
        Timestamp::parse_rfc3339(field, raw).map_err(|e| ChannelError::bad_response(format!("eBay order {id}: {e}")))
    };
    let placed_at = time("creationDate", &o.creation_date)?;
    let updated_at = time("lastModifiedDate", &o.last_modified_date)?;
    let cancelled = o.cancel_status.and_then(|c| c.cancel_state).is_some_and(|s| s == "CANCELED");
    let status = if cancelled {
        SourceStatus::Cancelled
    } else if o.order_fulfillment_status.as_deref() == Some("FULFILLED") {
        SourceStatus::Shipped
    } else {
        SourceStatus::Open
    };
    let mut lines = Vec::with_capacity(o.line_items.len());
    for (i, l) in o.line_items.into_iter().enumerate() {
        let quantity = u32::try_from(l.quantity)
            .map_err(|_| bad(&format!("lineItems[{i}].quantity"), format!("{} is not a count", l.quantity)))?;
        // Listings not created through the Inventory API may have no SKU;
        // the listing id still lets the seller map the line.
        let channel_sku = l.sku.filter(|s| !s.is_empty()).or(l.legacy_item_id).unwrap_or_default();
        lines.push(RemoteLine { line_id: l.line_item_id, channel_sku, quantity });
    }
    Ok(RemoteOrder { external_id: id, status, placed_at, updated_at, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(json: serde_json::Value) -> Result<RemoteOrder, ChannelError> {
        map_order(serde_json::from_value(json).unwrap())
    }

    #[test]
    fn maps_status_lines_and_times() {
        let o = order(serde_json::json!({
            "orderId": "01-1", "creationDate": "2026-01-01T10:00:00.000Z", "lastModifiedDate": "2026-01-01T11:00:00.000Z",
            "orderFulfillmentStatus": "FULFILLED", "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
            "lineItems": [{"lineItemId": "9", "sku": "A-1", "quantity": 2}, {"lineItemId": "10", "legacyItemId": "111", "quantity": 1}]
        }))
        .unwrap();
        assert_eq!(o.status, SourceStatus::Shipped);
        assert_eq!(o.updated_at.millis() - o.placed_at.millis(), 3_600_000);
        assert_eq!(o.lines[1].channel_sku, "111");
        let c = order(serde_json::json!({
            "orderId": "01-2", "creationDate": "2026-01-01T10:00:00.000Z", "lastModifiedDate": "2026-01-01T10:00:00.000Z",
            "orderFulfillmentStatus": "FULFILLED", "cancelStatus": {"cancelState": "CANCELED"}, "lineItems": []
        }))
        .unwrap();
        assert_eq!(c.status, SourceStatus::Cancelled);
    }

    #[test]
    fn bad_fields_are_named() {
        let e = order(serde_json::json!({
            "orderId": "01-3", "creationDate": "yesterday", "lastModifiedDate": "2026-01-01T10:00:00.000Z"
        }))
        .unwrap_err();
        assert!(e.message.contains("01-3") && e.message.contains("creationDate"), "{e}");
        let e = order(serde_json::json!({
            "orderId": "01-4", "creationDate": "2026-01-01T10:00:00.000Z", "lastModifiedDate": "2026-01-01T10:00:00.000Z",
            "lineItems": [{"lineItemId": "1", "sku": "A", "quantity": -1}]
        }))
        .unwrap_err();
        assert!(e.message.contains("lineItems[0].quantity"), "{e}");
    }
}
