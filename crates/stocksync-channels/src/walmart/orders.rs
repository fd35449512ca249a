//! Orders by `lastModifiedStartDate`/`lastModifiedEndDate`, pages chained
//! by `meta.nextCursor` (a query string to append to `/v3/orders`). Walmart
//! cancels per order line: a line's units are its ordered amount less the
//! `statusQuantity` of its `Cancelled` statuses. Orders carry no modified
//! time of their own; the latest line `statusDate` stands for it. Pages can
//! repeat while orders change, so orders are merged by purchase order id,
//! and passes repeat until `meta.totalCount` distinct orders have been seen.

use std::collections::{HashMap, HashSet};

use reqwest::Method;
use serde::Deserialize;
use stocksync_core::Timestamp;
use stocksync_core::order::SourceStatus;

use super::WalmartConnector;
use crate::http::json;
use crate::model::{ChannelError, RemoteLine, RemoteOrder};
use crate::paging::{in_window, keep_newest};

/// Orders per page: the documented maximum [spec: orders file, `limit`].
const ORDERS_PAGE_SIZE: u32 = 200;
/// Pages per pass at most: 100 × 200 = 20,000, the most one query returns [spec].
const ORDER_PAGES_MAX: usize = 100;
/// Times a page whose every order was already seen is asked again.
const PAGE_REFETCH_MAX: usize = 3;
/// Passes before giving up on reaching `totalCount`; the next poll retries.
const PASSES_MAX: usize = 3;

#[derive(Debug, Deserialize)]
struct OrdersAnswer {
    list: OrderList,
}

#[derive(Debug, Deserialize)]
struct OrderList {
    meta: ListMeta,
    elements: Option<OrderElements>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    total_count: Option<u64>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OrderElements {
    #[serde(default)]
    order: Vec<Order>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    purchase_order_id: String,
    order_date: i64,
    order_lines: OrderLines,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderLines {
    #[serde(default)]
    order_line: Vec<OrderLine>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderLine {
    line_number: String,
    item: Item,
    order_line_quantity: Quantity,
    status_date: Option<i64>,
    order_line_statuses: LineStatuses,
}

#[derive(Debug, Deserialize)]
struct Item {
    sku: String,
}

#[derive(Debug, Deserialize)]
struct Quantity {
    /// A decimal string in JSON (`"2"`).
    amount: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineStatuses {
    #[serde(default)]
    order_line_status: Vec<LineStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineStatus {
    status: String,
    status_quantity: Quantity,
}

impl WalmartConnector {
    /// Orders last modified in `[since, until)`, every page.
    pub async fn fetch_orders(&self, since: Timestamp, until: Timestamp) -> Result<Vec<RemoteOrder>, ChannelError> {
        let first = format!(
            "?{}",
            serde_urlencoded::to_string([
                ("lastModifiedStartDate", since.to_string()),
                ("lastModifiedEndDate", until.to_string()),
                ("limit", ORDERS_PAGE_SIZE.to_string()),
            ])
            .map_err(|e| ChannelError::permanent(format!("encoding the query: {e}")))?
        );
        let mut newest: HashMap<String, RemoteOrder> = HashMap::new();
        let mut total = 0;
        for _ in 0..PASSES_MAX {
            total = self.one_pass(&first, &mut newest).await?;
            if newest.len() as u64 >= total {
                return Ok(in_window(newest.into_values(), since, until));
            }
        }
        Err(ChannelError::transient(format!(
            "Walmart orders: {} distinct orders seen of totalCount {total} after {PASSES_MAX} passes",
            newest.len()
        )))
    }

    async fn one_pass(&self, first: &str, newest: &mut HashMap<String, RemoteOrder>) -> Result<u64, ChannelError> {
        let mut seen: HashSet<String> = HashSet::new();
        let mut cursor = first.to_owned();
        for index in 0..ORDER_PAGES_MAX {
            let mut page = self.orders_page(&cursor).await?;
            for _ in 0..PAGE_REFETCH_MAX {
                let orders = page.elements.as_ref().map_or(&[][..], |e| &e.order[..]);
                let repeated = orders.iter().all(|o| seen.contains(&o.purchase_order_id));
                if index == 0 || orders.is_empty() || !repeated {
                    break;
                }
                page = self.orders_page(&cursor).await?;
            }
            for raw in page.elements.map(|e| e.order).unwrap_or_default() {
                let order = map_order(raw)?;
                seen.insert(order.external_id.clone());
                keep_newest(newest, order);
            }
            match page.meta.next_cursor.filter(|c| !c.is_empty()) {
                Some(next) if next.starts_with('?') => cursor = next,
                Some(next) => cursor = format!("?{next}"),
                None => return Ok(page.meta.total_count.unwrap_or(0)),
            }
        }
        Err(ChannelError::permanent(format!(
            "Walmart orders: more than {ORDER_PAGES_MAX} pages; poll a shorter window"
        )))
    }

    async fn orders_page(&self, cursor: &str) -> Result<OrderList, ChannelError> {
        let answer: OrdersAnswer =
            json(self.call(&self.orders_api, Method::GET, &format!("/v3/orders{cursor}"), None).await?).await?;
        Ok(answer.list)
    }
}

/// A decimal amount (`"2"`, `"2.0"`) as whole units.
fn units(id: &str, field: &str, raw: &str) -> Result<u32, ChannelError> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0 && v.fract() == 0.0 && *v <= f64::from(u32::MAX))
        .map(|v| v as u32)
        .ok_or_else(|| ChannelError::bad_response(format!("Walmart order {id}: {field} is {raw:?}")))
}

fn map_order(o: Order) -> Result<RemoteOrder, ChannelError> {
    let id = o.purchase_order_id;
    let mut lines: Vec<(RemoteLine, u32)> = Vec::with_capacity(o.order_lines.order_line.len());
    let mut updated = o.order_date;
    let (mut any_open, mut any_left) = (false, false);
    for (i, l) in o.order_lines.order_line.into_iter().enumerate() {
        let ordered = units(&id, &format!("orderLine[{i}].orderLineQuantity.amount"), &l.order_line_quantity.amount)?;
        let mut cancelled = 0u32;
        for s in &l.order_line_statuses.order_line_status {
            let n = units(&id, &format!("orderLine[{i}].statusQuantity.amount"), &s.status_quantity.amount)?;
            match s.status.as_str() {
                "Cancelled" => cancelled = cancelled.saturating_add(n),
                "Shipped" | "Delivered" => {}
                _ => any_open |= n > 0,
            }
        }
        let quantity = ordered.saturating_sub(cancelled);
        any_left |= quantity > 0;
        updated = updated.max(l.status_date.unwrap_or(o.order_date));
        lines.push((RemoteLine { line_id: l.line_number, channel_sku: l.item.sku, quantity }, ordered));
    }
    // A wholly cancelled order keeps its lines as ordered (the status says
    // it all); otherwise a line cancelled to nothing is a removed line.
    let (status, lines) = if !any_left {
        let lines = lines.into_iter().map(|(l, ordered)| RemoteLine { quantity: ordered, ..l }).collect();
        (SourceStatus::Cancelled, lines)
    } else {
        let lines = lines.into_iter().map(|(l, _)| l).filter(|l| l.quantity > 0).collect();
        (if any_open { SourceStatus::Open } else { SourceStatus::Shipped }, lines)
    };
    Ok(RemoteOrder {
        external_id: id,
        status,
        placed_at: Timestamp(o.order_date),
        updated_at: Timestamp(updated),
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(lines: serde_json::Value) -> Result<RemoteOrder, ChannelError> {
        let raw =
            serde_json::json!({ "purchaseOrderId": "P1", "orderDate": 1000, "orderLines": { "orderLine": lines } });
        map_order(serde_json::from_value(raw).unwrap())
    }

    fn line(n: &str, amount: &str, statuses: serde_json::Value) -> serde_json::Value {
        serde_json::json!({ "lineNumber": n, "item": { "sku": format!("S-{n}") }, "statusDate": 5000,
            "orderLineQuantity": { "unitOfMeasurement": "EACH", "amount": amount },
            "orderLineStatuses": { "orderLineStatus": statuses } })
    }

    fn status(s: &str, amount: &str) -> serde_json::Value {
        serde_json::json!({ "status": s, "statusQuantity": { "unitOfMeasurement": "EACH", "amount": amount } })
    }

    #[test]
    fn cancelled_units_leave_each_line_and_the_order_status_follows() {
        let o = order(serde_json::json!([
            line("1", "3", serde_json::json!([status("Acknowledged", "2"), status("Cancelled", "1")])),
            line("2", "1", serde_json::json!([status("Cancelled", "1")])),
        ]))
        .unwrap();
        assert_eq!(o.lines.iter().map(|l| (l.line_id.as_str(), l.quantity)).collect::<Vec<_>>(), [("1", 2)]);
        assert_eq!((o.status, o.updated_at), (SourceStatus::Open, Timestamp(5000)));
        let all = order(serde_json::json!([line("1", "2", serde_json::json!([status("Cancelled", "2")]))])).unwrap();
        assert_eq!((all.status, all.lines[0].quantity), (SourceStatus::Cancelled, 2), "lines as ordered");
        let shipped = order(serde_json::json!([line("1", "2", serde_json::json!([status("Shipped", "2")]))])).unwrap();
        assert_eq!(shipped.status, SourceStatus::Shipped);
        let bad = order(serde_json::json!([line("1", "two", serde_json::json!([]))])).unwrap_err();
        assert!(bad.message.contains("orderLineQuantity"), "{bad}");
    }
}
