//! WooCommerce order webhooks: `X-WC-Webhook-Signature` is the base64
//! HMAC-SHA256 of the raw body keyed by the webhook's secret
//! (`credentials.webhook_secret`), checked in constant time before anything
//! is parsed; the body is the order JSON of the REST API, and
//! `X-WC-Webhook-Topic` names the event.

use axum::http::HeaderMap;

use super::orders::{Order, map_order};
use crate::connector::WebhookEvent;
use crate::model::{ChannelConfig, ChannelError};
use crate::signing::verify_base64_signature;

pub const SIGNATURE_HEADER: &str = "x-wc-webhook-signature";
pub const TOPIC_HEADER: &str = "x-wc-webhook-topic";
/// The topics that carry an order stocksync imports. A deleted order is not
/// one: it arrives as a polled status (`trash`) or not at all.
pub const ORDER_TOPICS: [&str; 2] = ["order.created", "order.updated"];

pub fn verify(cfg: &ChannelConfig, headers: &HeaderMap, body: &[u8]) -> Result<WebhookEvent, ChannelError> {
    let secret = cfg.require("webhook_secret")?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signature = header(SIGNATURE_HEADER)
        .ok_or_else(|| ChannelError::permanent("WooCommerce webhook without X-WC-Webhook-Signature"))?;
    if !verify_base64_signature(secret, body, signature) {
        return Err(ChannelError::permanent("WooCommerce webhook signature does not match"));
    }
    let topic = header(TOPIC_HEADER).unwrap_or_default();
    if !ORDER_TOPICS.contains(&topic) {
        return Ok(WebhookEvent::Ignored(topic.to_owned()));
    }
    let order: Order = serde_json::from_slice(body)
        .map_err(|e| ChannelError::bad_response(format!("WooCommerce {topic} webhook body: {e}")))?;
    Ok(WebhookEvent::Orders(vec![map_order(order)?]))
}
