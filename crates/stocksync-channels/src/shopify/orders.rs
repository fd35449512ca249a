//! Orders by `updated_at` window through GraphQL `orders`, cursor paging,
//! and the lines of an order past the first page through `order(id:)`.
//! Shopify ids are normalised to the numeric form its webhooks use, so a
//! polled order and a webhooked one are the same order with the same lines.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};
use stocksync_core::Timestamp;
use stocksync_core::order::SourceStatus;

use super::{Connection, ShopifyConnector, gid_tail, queries};
use crate::model::{ChannelError, RemoteLine, RemoteOrder};

/// Orders per page and lines per order on it: 2 + 20 × (1 + 1 + 2 + 40)
/// = 882 points, under the 1,000-point ceiling of one query.
const ORDERS_PAGE_SIZE: u32 = 20;
const LINES_PAGE_SIZE: u32 = 40;
/// Lines per page for an order's further lines: 2 + 250 + 1 + 1 points.
const MORE_LINES_PAGE_SIZE: u32 = 250;
/// Pages read in one poll at most: 2,500 × 20 = 50,000 orders in one window;
/// the poller's windows are minutes long, a longer chain is a loop.
const ORDER_PAGES_MAX: usize = 2_500;
/// Line pages of one order at most: 40 × 250 = 10,000 lines.
const LINE_PAGES_MAX: usize = 40;

#[derive(Debug, Deserialize)]
struct OrdersData {
    orders: Connection<Order>,
}

#[derive(Debug, Deserialize)]
struct OrderLinesData {
    order: Option<OrderLines>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderLines {
    line_items: Connection<Line>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    id: String,
    /// `UnsignedInt64`, a string in JSON.
    legacy_resource_id: Value,
    created_at: String,
    updated_at: String,
    cancelled_at: Option<String>,
    display_fulfillment_status: String,
    line_items: Connection<Line>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    id: String,
    sku: Option<String>,
    current_quantity: i64,
}

impl ShopifyConnector {
    /// Orders whose `updatedAt` is in `[since, until)`, every page.
    pub async fn fetch_orders(&self, since: Timestamp, until: Timestamp) -> Result<Vec<RemoteOrder>, ChannelError> {
        let query = format!("updated_at:>='{since}' updated_at:<'{until}'");
        let mut newest: HashMap<String, RemoteOrder> = HashMap::new();
        let mut after: Option<String> = None;
        for _ in 0..ORDER_PAGES_MAX {
            let vars = json!({ "first": ORDERS_PAGE_SIZE, "after": after, "query": query, "lines": LINES_PAGE_SIZE });
            let page: OrdersData = self.graphql(queries::ORDERS, vars).await?;
            for mut order in page.orders.nodes {
                if order.line_items.page_info.has_next_page {
                    let more = self.more_lines(&order.id, order.line_items.page_info.end_cursor.take()).await?;
                    order.line_items.nodes.extend(more);
                }
                let order = map_order(order)?;
                // Pages can overlap when orders change mid-poll: keep the newest copy.
                if newest.get(&order.external_id).is_none_or(|kept| kept.updated_at < order.updated_at) {
                    newest.insert(order.external_id.clone(), order);
                }
            }
            if !page.orders.page_info.has_next_page {
                let mut orders: Vec<RemoteOrder> =
                    newest.into_values().filter(|o| o.updated_at >= since && o.updated_at < until).collect();
                orders.sort_by(|a, b| (a.updated_at, &a.external_id).cmp(&(b.updated_at, &b.external_id)));
                return Ok(orders);
            }
            after = Some(
                page.orders
                    .page_info
                    .end_cursor
                    .ok_or_else(|| ChannelError::bad_response("Shopify orders: hasNextPage without an endCursor"))?,
            );
        }
        Err(ChannelError::permanent(format!(
            "Shopify orders: more than {} in one window; poll a shorter window",
            ORDER_PAGES_MAX * ORDERS_PAGE_SIZE as usize
        )))
    }

    async fn more_lines(&self, order_gid: &str, mut after: Option<String>) -> Result<Vec<Line>, ChannelError> {
        let mut lines = Vec::new();
        for _ in 0..LINE_PAGES_MAX {
            let vars = json!({ "id": order_gid, "after": after, "lines": MORE_LINES_PAGE_SIZE });
            let data: OrderLinesData = self.graphql(queries::ORDER_LINES, vars).await?;
            let conn = data
                .order
                .ok_or_else(|| ChannelError::bad_response(format!("Shopify order {order_gid} vanished mid-poll")))?
                .line_items;
            lines.extend(conn.nodes);
            if !conn.page_info.has_next_page {
                return Ok(lines);
            }
            after = conn.page_info.end_cursor;
        }
        Err(ChannelError::permanent(format!("Shopify order {order_gid}: more than {LINE_PAGES_MAX} pages of lines")))
    }
}

/// `"123"` or `123` as a string.
pub(super) fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn map_order(o: Order) -> Result<RemoteOrder, ChannelError> {
    let id = id_text(&o.legacy_resource_id)
        .ok_or_else(|| ChannelError::bad_response(format!("Shopify order {}: no legacyResourceId", o.id)))?;
    let time = |field: &str, raw: &str| {
        Timestamp::parse_rfc3339(field, raw).map_err(|e| ChannelError::bad_response(format!("Shopify order {id}: {e}")))
    };
    let placed_at = time("createdAt", &o.created_at)?;
    let updated_at = time("updatedAt", &o.updated_at)?;
    let status = if o.cancelled_at.is_some() {
        SourceStatus::Cancelled
    } else if o.display_fulfillment_status == "FULFILLED" {
        SourceStatus::Shipped
    } else {
        SourceStatus::Open
    };
    let mut lines = Vec::with_capacity(o.line_items.nodes.len());
    for (i, l) in o.line_items.nodes.into_iter().enumerate() {
        // `currentQuantity` excludes units removed by an edit or a refund.
        let quantity = u32::try_from(l.current_quantity).map_err(|_| {
            ChannelError::bad_response(format!(
                "Shopify order {id}: lineItems[{i}].currentQuantity is {}",
                l.current_quantity
            ))
        })?;
        lines.push(RemoteLine {
            line_id: gid_tail(&l.id).to_owned(),
            channel_sku: l.sku.unwrap_or_default(),
            quantity,
        });
    }
    Ok(RemoteOrder { external_id: id, status, placed_at, updated_at, lines })
}
