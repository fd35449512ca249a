//! Shopify order webhooks: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256
//! of the raw body keyed by the app's secret (`credentials.webhook_secret`),
//! checked in constant time before anything is parsed; the body is the
//! REST-shaped order of the topic in `X-Shopify-Topic`.

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use stocksync_core::Timestamp;
use stocksync_core::order::SourceStatus;

use super::orders::id_text;
use crate::connector::WebhookEvent;
use crate::model::{ChannelConfig, ChannelError, RemoteLine, RemoteOrder};
use crate::signing::verify_base64_signature;

pub const HMAC_HEADER: &str = "x-shopify-hmac-sha256";
pub const TOPIC_HEADER: &str = "x-shopify-topic";
/// The topics that carry an order stocksync imports.
pub const ORDER_TOPICS: [&str; 3] = ["orders/create", "orders/updated", "orders/cancelled"];

#[derive(Debug, Deserialize)]
struct Order {
    id: Value,
    created_at: String,
    updated_at: String,
    cancelled_at: Option<String>,
    fulfillment_status: Option<String>,
    #[serde(default)]
    line_items: Vec<Line>,
}

#[derive(Debug, Deserialize)]
struct Line {
    id: Value,
    sku: Option<String>,
    quantity: i64,
    /// Units left after edits and refunds; older API versions lack it.
    current_quantity: Option<i64>,
}

pub fn verify(cfg: &ChannelConfig, headers: &HeaderMap, body: &[u8]) -> Result<WebhookEvent, ChannelError> {
    let secret = cfg.require("webhook_secret")?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signature =
        header(HMAC_HEADER).ok_or_else(|| ChannelError::permanent("Shopify webhook without X-Shopify-Hmac-Sha256"))?;
    if !verify_base64_signature(secret, body, signature) {
        return Err(ChannelError::permanent("Shopify webhook signature does not match"));
    }
    let topic = header(TOPIC_HEADER).unwrap_or_default();
    if !ORDER_TOPICS.contains(&topic) {
        return Ok(WebhookEvent::Ignored(topic.to_owned()));
    }
    let order: Order = serde_json::from_slice(body)
        .map_err(|e| ChannelError::bad_response(format!("Shopify {topic} webhook body: {e}")))?;
    Ok(WebhookEvent::Orders(vec![map_order(order)?]))
}

fn map_order(o: Order) -> Result<RemoteOrder, ChannelError> {
    let id = id_text(&o.id).ok_or_else(|| ChannelError::bad_response("Shopify webhook order: id is missing"))?;
    let bad = |message: String| ChannelError::bad_response(format!("Shopify webhook order {id}: {message}"));
    let time = |field: &str, raw: &str| Timestamp::parse_rfc3339(field, raw).map_err(|e| bad(e.to_string()));
    let placed_at = time("created_at", &o.created_at)?;
    let updated_at = time("updated_at", &o.updated_at)?;
    let status = if o.cancelled_at.is_some() {
        SourceStatus::Cancelled
    } else if o.fulfillment_status.as_deref() == Some("fulfilled") {
        SourceStatus::Shipped
    } else {
        SourceStatus::Open
    };
    let mut lines = Vec::with_capacity(o.line_items.len());
    for (i, l) in o.line_items.into_iter().enumerate() {
        let line_id = id_text(&l.id).ok_or_else(|| bad(format!("line_items[{i}].id is missing")))?;
        let raw = l.current_quantity.unwrap_or(l.quantity);
        let quantity = u32::try_from(raw).map_err(|_| bad(format!("line_items[{i}].current_quantity is {raw}")))?;
        lines.push(RemoteLine { line_id, channel_sku: l.sku.unwrap_or_default(), quantity });
    }
    Ok(RemoteOrder { external_id: id, status, placed_at, updated_at, lines })
}
