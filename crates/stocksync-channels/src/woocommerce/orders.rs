//! Orders by `modified_after`/`modified_before` with numbered pages
//! (`page`, `per_page`, `X-WP-Total`, `X-WP-TotalPages`), read through
//! `paging::all_pages` because the result set can move while it is paged.
//! The same mapping serves webhook payloads, which are the same order JSON.

use serde::Deserialize;
use stocksync_core::Timestamp;
use stocksync_core::order::SourceStatus;

use super::{PAGE_SIZE, WooConnector, header_number, total_pages};
use crate::http::json;
use crate::model::{ChannelError, RemoteLine, RemoteOrder};
use crate::paging::{self, Page};

/// Pages read in one pass at most: 500 × 100 = 50,000 orders changed in one
/// window; the poller's windows are minutes long.
const ORDER_PAGES_MAX: u64 = 500;

#[derive(Debug, Deserialize)]
pub(super) struct Order {
    id: u64,
    status: String,
    /// Store-local times come without an offset; the `_gmt` twins are UTC.
    date_created_gmt: String,
    date_modified_gmt: String,
    #[serde(default)]
    line_items: Vec<LineItem>,
}

#[derive(Debug, Deserialize)]
struct LineItem {
    id: u64,
    product_id: Option<u64>,
    variation_id: Option<u64>,
    quantity: i64,
    sku: Option<String>,
}

impl WooConnector {
    /// Orders whose `date_modified_gmt` is in `[since, until)`, every page.
    pub async fn fetch_orders(&self, since: Timestamp, until: Timestamp) -> Result<Vec<RemoteOrder>, ChannelError> {
        // WooCommerce keeps whole seconds: an order modified at 10:00:00.7
        // reads as 10:00:00, so the window starts at a whole second (windows
        // then overlap by under a second; importing is idempotent). And
        // `modified_after` is exclusive: ask from a second earlier, trim locally.
        let since = Timestamp(since.millis().div_euclid(1000) * 1000);
        let after = Timestamp(since.millis() - 1000);
        let query = serde_urlencoded::to_string([
            ("modified_after", after.to_string()),
            ("modified_before", until.to_string()),
            ("dates_are_gmt", "true".into()),
            ("status", "any".into()),
            ("orderby", "id".into()),
            ("order", "asc".into()),
            ("per_page", PAGE_SIZE.to_string()),
        ])
        .map_err(|e| ChannelError::permanent(format!("encoding the query: {e}")))?;
        let query = &query;
        paging::all_pages("WooCommerce orders", ORDER_PAGES_MAX, since, until, |index| async move {
            let page = index + 1;
            let res = self.get(&format!("/orders?{query}&page={page}")).await?;
            let pages = total_pages(&res);
            let total = header_number(&res, "x-wp-total").unwrap_or(0);
            let raw: Vec<Order> = json(res).await?;
            let orders = raw.into_iter().map(map_order).collect::<Result<Vec<_>, _>>()?;
            Ok(Page { total: total.max(orders.len() as u64), more: page < pages && !orders.is_empty(), orders })
        })
        .await
    }
}

/// A `…_gmt` time (`2026-01-01T10:00:00`, no offset) as UTC.
fn gmt(id: u64, field: &str, raw: &str) -> Result<Timestamp, ChannelError> {
    let text = if raw.ends_with('Z') || raw.contains('+') { raw.to_owned() } else { format!("{raw}Z") };
    Timestamp::parse_rfc3339(field, &text)
        .map_err(|e| ChannelError::bad_response(format!("WooCommerce order {id}: {e}")))
}

pub(super) fn map_order(o: Order) -> Result<RemoteOrder, ChannelError> {
    let id = o.id;
    let placed_at = gmt(id, "date_created_gmt", &o.date_created_gmt)?;
    let updated_at = gmt(id, "date_modified_gmt", &o.date_modified_gmt)?;
    let status = match o.status.as_str() {
        // `failed` never took payment and `trash` is a deleted order:
        // neither ships, so both release their units like a cancellation.
        "cancelled" | "failed" | "trash" => SourceStatus::Cancelled,
        // A refund does not put units back on the shelf by itself (the
        // seller restocks by hand), so a refunded order keeps its units
        // deducted, as a shipped one does: never counted as sellable twice.
        "completed" | "refunded" => SourceStatus::Shipped,
        _ => SourceStatus::Open,
    };
    let mut lines = Vec::with_capacity(o.line_items.len());
    for (i, l) in o.line_items.into_iter().enumerate() {
        let quantity = u32::try_from(l.quantity).map_err(|_| {
            ChannelError::bad_response(format!("WooCommerce order {id}: line_items[{i}].quantity is {}", l.quantity))
        })?;
        // A product without a SKU is still mappable by its product or
        // variation id.
        let channel_sku = l.sku.filter(|s| !s.is_empty()).unwrap_or_else(|| {
            match (l.product_id.unwrap_or(0), l.variation_id.unwrap_or(0)) {
                (0, _) => String::new(),
                (p, 0) => p.to_string(),
                (p, v) => format!("{p}/{v}"),
            }
        });
        lines.push(RemoteLine { line_id: l.id.to_string(), channel_sku, quantity });
    }
    Ok(RemoteOrder { external_id: id.to_string(), status, placed_at, updated_at, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(json: serde_json::Value) -> Result<RemoteOrder, ChannelError> {
        map_order(serde_json::from_value(json).unwrap())
    }

    #[test]
    fn maps_statuses_gmt_times_and_lines_without_skus() {
        let o = order(serde_json::json!({
            "id": 727, "status": "completed", "date_created_gmt": "2026-01-01T10:00:00",
            "date_modified_gmt": "2026-01-01T11:00:00",
            "line_items": [{"id": 1, "product_id": 93, "variation_id": 0, "quantity": 2, "sku": "A-1"},
                           {"id": 2, "product_id": 94, "variation_id": 95, "quantity": 1, "sku": ""}]
        }))
        .unwrap();
        assert_eq!(o.status, SourceStatus::Shipped);
        assert_eq!(o.updated_at.millis() - o.placed_at.millis(), 3_600_000);
        assert_eq!(o.lines[1].channel_sku, "94/95");
        for (raw, want) in [("cancelled", SourceStatus::Cancelled), ("on-hold", SourceStatus::Open)] {
            let o = order(serde_json::json!({"id": 1, "status": raw, "date_created_gmt": "2026-01-01T10:00:00",
                "date_modified_gmt": "2026-01-01T10:00:00"}))
            .unwrap();
            assert_eq!(o.status, want, "{raw}");
        }
        let bad = order(serde_json::json!({"id": 9, "status": "processing", "date_created_gmt": "soon",
            "date_modified_gmt": "2026-01-01T10:00:00"}))
        .unwrap_err();
        assert!(bad.message.contains("date_created_gmt") && bad.message.contains('9'), "{bad}");
    }
}
