//! Orders v0: `getOrders` by `LastUpdatedAfter`/`LastUpdatedBefore`, pages
//! chained by `NextToken`, then `getOrderItems` per order (also paged).
//! Amazon refuses a `LastUpdatedBefore` less than two minutes in the past,
//! so the window's end is clamped to now − 2 min (− a skew margin); the
//! importer's overlap (5 minutes) re-reads what the clamp left for later.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::Method;
use serde::Deserialize;
use stocksync_core::Timestamp;
use stocksync_core::order::SourceStatus;

use super::AmazonConnector;
use crate::http::json;
use crate::model::{ChannelError, RemoteLine, RemoteOrder};
use crate::paging::in_window;

/// How far behind now `LastUpdatedBefore` must be [spec: "at least two
/// minutes before current time"], plus 10 s for our clock running ahead of Amazon's.
pub const UPDATED_BEFORE_LAG_MS: i64 = 2 * 60_000 + 10_000;
/// Orders per page: the documented maximum [spec].
const ORDERS_PAGE_SIZE: u32 = 100;
/// Pages read in one poll at most: 500 × 100 = 50,000 orders, more than a
/// poll window holds; at getOrders' 1/min that is already hours of budget.
const ORDER_PAGES_MAX: usize = 500;
/// Item pages of one order at most (getOrderItems pages rarely exist at all).
const ITEM_PAGES_MAX: usize = 20;
/// Times a page whose every order was already seen is asked again with the
/// same token (a page served twice hides the one that should have come).
/// Amazon states no total to check against afterwards, so this is the only
/// guard: more tries than for the APIs that do.
const PAGE_REFETCH_MAX: usize = 5;

/// How long an order's items are remembered after its last change: longer
/// than the importer's deepest overlap (5 minutes), so a re-read window
/// finds every unchanged order here.
const ITEMS_KEPT_MS: i64 = 30 * 60_000;

/// How long after an order's `LastUpdateDate` its items may be remembered:
/// that date has whole seconds, so a change within the same second would
/// keep it; a second later (plus the clock skew `UPDATED_BEFORE_LAG_MS`
/// allows) any change moves it. Orders are only asked for two minutes after
/// their last change, so in practice every read is remembered.
const ITEMS_SETTLED_MS: i64 = 11_000;

/// Items already read, by order id, with the `LastUpdateDate` they were
/// read at. Amazon moves `LastUpdateDate` on every change to an order (a
/// cancelled unit included), so an order seen again with the same date has
/// the same items: re-reading them would spend `getOrderItems`' 0.5 calls a
/// second on nothing (each poll re-reads minutes of orders). Clones share it.
#[derive(Debug, Clone, Default)]
pub(super) struct ItemsCache(Arc<Mutex<HashMap<String, ItemsRead>>>);

/// An order's items and the `LastUpdateDate` they were read at.
type ItemsRead = (Timestamp, Vec<OrderItem>);

impl ItemsCache {
    fn get(&self, order_id: &str, updated: Timestamp) -> Option<Vec<OrderItem>> {
        let held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        held.get(order_id).filter(|(at, _)| *at == updated).map(|(_, items)| items.clone())
    }

    fn put(&self, order_id: &str, updated: Timestamp, items: &[OrderItem]) {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        held.insert(order_id.to_owned(), (updated, items.to_vec()));
    }

    /// Forgets orders last changed before `before`.
    fn prune(&self, before: Timestamp) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).retain(|_, (at, _)| *at >= before);
    }
}

#[derive(Debug, Deserialize)]
struct OrdersResponse {
    payload: Option<OrdersList>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OrdersList {
    #[serde(default)]
    orders: Vec<Order>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Order {
    amazon_order_id: String,
    purchase_date: String,
    last_update_date: String,
    order_status: String,
}

#[derive(Debug, Deserialize)]
struct ItemsResponse {
    payload: Option<ItemsList>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ItemsList {
    #[serde(default)]
    order_items: Vec<OrderItem>,
    next_token: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct OrderItem {
    #[serde(rename = "ASIN")]
    asin: String,
    #[serde(rename = "SellerSKU")]
    seller_sku: Option<String>,
    order_item_id: String,
    quantity_ordered: i64,
}

impl AmazonConnector {
    /// Orders whose `LastUpdateDate` is in `[since, min(until, now − 2 min))`,
    /// with their items (read once per `LastUpdateDate`: `ItemsCache`).
    pub async fn fetch_orders(&self, since: Timestamp, until: Timestamp) -> Result<Vec<RemoteOrder>, ChannelError> {
        // Amazon keeps whole seconds: the window starts at one (see WooCommerce).
        let since = Timestamp(since.millis().div_euclid(1000) * 1000);
        let until = Timestamp(until.millis().min(self.clock.now().millis() - UPDATED_BEFORE_LAG_MS));
        if until <= since {
            return Ok(Vec::new());
        }
        let headers = self.order_headers(since, until).await?;
        let mut orders = Vec::with_capacity(headers.len());
        for order in headers.into_values() {
            let id = &order.amazon_order_id;
            let updated = stamp(id, "LastUpdateDate", &order.last_update_date)?;
            let lines = match self.items.get(id, updated) {
                Some(lines) => lines,
                None => {
                    let lines = self.order_items(id).await?;
                    if self.clock.now().millis() - updated.millis() >= ITEMS_SETTLED_MS {
                        self.items.put(id, updated, &lines);
                    }
                    lines
                }
            };
            orders.push(map_order(order, lines)?);
        }
        self.items.prune(Timestamp(since.millis() - ITEMS_KEPT_MS));
        Ok(in_window(orders, since, until))
    }

    /// Every order header of the window, newest version of each.
    async fn order_headers(&self, since: Timestamp, until: Timestamp) -> Result<HashMap<String, Order>, ChannelError> {
        let base = serde_urlencoded::to_string([
            ("MarketplaceIds", self.marketplace()?.to_owned()),
            ("LastUpdatedAfter", since.to_string()),
            ("LastUpdatedBefore", until.to_string()),
            ("MaxResultsPerPage", ORDERS_PAGE_SIZE.to_string()),
        ])
        .map_err(|e| ChannelError::permanent(format!("encoding the query: {e}")))?;
        let mut newest: HashMap<String, Order> = HashMap::new();
        let mut seen_stamps: HashMap<String, Timestamp> = HashMap::new();
        let mut token: Option<String> = None;
        for _ in 0..ORDER_PAGES_MAX {
            let mut page = self.orders_page(&base, token.as_deref()).await?;
            for _ in 0..PAGE_REFETCH_MAX {
                let seen: HashSet<&String> = newest.keys().collect();
                let repeated = page.orders.iter().all(|o| seen.contains(&o.amazon_order_id));
                if token.is_none() || page.orders.is_empty() || !repeated {
                    break;
                }
                page = self.orders_page(&base, token.as_deref()).await?;
            }
            for o in page.orders {
                let stamp = stamp(&o.amazon_order_id, "LastUpdateDate", &o.last_update_date)?;
                if seen_stamps.get(&o.amazon_order_id).is_none_or(|kept| *kept < stamp) {
                    seen_stamps.insert(o.amazon_order_id.clone(), stamp);
                    newest.insert(o.amazon_order_id.clone(), o);
                }
            }
            match page.next_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => return Ok(newest),
            }
        }
        Err(ChannelError::permanent(format!(
            "Amazon getOrders: more than {ORDER_PAGES_MAX} pages in one window; poll a shorter window"
        )))
    }

    async fn orders_page(&self, base: &str, token: Option<&str>) -> Result<OrdersList, ChannelError> {
        let mut query = base.to_owned();
        if let Some(t) = token {
            query.push('&');
            query.push_str(&serde_urlencoded::to_string([("NextToken", t)]).unwrap_or_default());
        }
        let res = self.call(&self.ops.get_orders, Method::GET, &format!("/orders/v0/orders?{query}"), None).await?;
        let body: OrdersResponse = json(res).await?;
        body.payload.ok_or_else(|| ChannelError::bad_response("Amazon getOrders: no payload"))
    }

    async fn order_items(&self, order_id: &str) -> Result<Vec<OrderItem>, ChannelError> {
        let path = format!("/orders/v0/orders/{}/orderItems", super::path_segment(order_id));
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..ITEM_PAGES_MAX {
            let query = match &token {
                Some(t) => format!("{path}?{}", serde_urlencoded::to_string([("NextToken", t)]).unwrap_or_default()),
                None => path.clone(),
            };
            let res = self.call(&self.ops.get_order_items, Method::GET, &query, None).await?;
            let body: ItemsResponse = json(res).await?;
            let page = body
                .payload
                .ok_or_else(|| ChannelError::bad_response(format!("Amazon getOrderItems {order_id}: no payload")))?;
            items.extend(page.order_items);
            match page.next_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => return Ok(items),
            }
        }
        Err(ChannelError::bad_response(format!("Amazon order {order_id}: more than {ITEM_PAGES_MAX} item pages")))
    }
}

fn stamp(id: &str, field: &str, raw: &str) -> Result<Timestamp, ChannelError> {
    Timestamp::parse_rfc3339(field, raw).map_err(|e| ChannelError::bad_response(format!("Amazon order {id}: {e}")))
}

fn map_order(o: Order, items: Vec<OrderItem>) -> Result<RemoteOrder, ChannelError> {
    let id = o.amazon_order_id;
    let placed_at = stamp(&id, "PurchaseDate", &o.purchase_date)?;
    let updated_at = stamp(&id, "LastUpdateDate", &o.last_update_date)?;
    let status = match o.order_status.as_str() {
        "Canceled" => SourceStatus::Cancelled,
        "Shipped" | "InvoiceUnconfirmed" => SourceStatus::Shipped,
        // Pending orders already hold Amazon's stock: they count as sold.
        _ => SourceStatus::Open,
    };
    let mut lines = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        // A seller-cancelled unit lowers `QuantityOrdered` on the item.
        let quantity = u32::try_from(item.quantity_ordered).map_err(|_| {
            ChannelError::bad_response(format!(
                "Amazon order {id}: OrderItems[{i}].QuantityOrdered is {}",
                item.quantity_ordered
            ))
        })?;
        let channel_sku = item.seller_sku.filter(|s| !s.is_empty()).unwrap_or(item.asin);
        lines.push(RemoteLine { line_id: item.order_item_id, channel_sku, quantity });
    }
    Ok(RemoteOrder { external_id: id, status, placed_at, updated_at, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_statuses_and_falls_back_to_the_asin() {
        let order = |status: &str| Order {
            amazon_order_id: "902-3159896-1390916".into(),
            purchase_date: "2026-01-01T10:00:00Z".into(),
            last_update_date: "2026-01-01T11:00:00Z".into(),
            order_status: status.into(),
        };
        let item = |sku: Option<&str>, q| OrderItem {
            asin: "B00TEST".into(),
            seller_sku: sku.map(Into::into),
            order_item_id: "1".into(),
            quantity_ordered: q,
        };
        let o = map_order(order("Canceled"), vec![item(Some("A-1"), 0), item(None, 2)]).unwrap();
        assert_eq!(o.status, SourceStatus::Cancelled);
        assert_eq!((o.lines[0].quantity, o.lines[1].channel_sku.as_str()), (0, "B00TEST"));
        assert_eq!(map_order(order("Shipped"), vec![]).unwrap().status, SourceStatus::Shipped);
        assert_eq!(map_order(order("Pending"), vec![]).unwrap().status, SourceStatus::Open);
        let bad = map_order(order("Unshipped"), vec![item(Some("A"), -1)]).unwrap_err();
        assert!(bad.message.contains("QuantityOrdered"), "{bad}");
    }
}
