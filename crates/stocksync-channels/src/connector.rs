//! `Connector`: one variant per channel kind (an enum, not trait objects),
//! each with the same operations: fetch orders changed in a window (every
//! page), fetch listings, push quantities (per-entry results), verify a
//! webhook.

use axum::http::HeaderMap;
use stocksync_core::Timestamp;
use stocksync_core::channel::ChannelKind;

use crate::amazon::AmazonConnector;
use crate::api::ApiConnector;
use crate::ebay::EbayConnector;
use crate::etsy::EtsyConnector;
use crate::http::RetryPolicy;
use crate::model::{ChannelConfig, ChannelError, PushEntry, PushResult, RemoteListing, RemoteOrder};
use crate::shopify::ShopifyConnector;
use crate::walmart::WalmartConnector;
use crate::woocommerce::WooConnector;

#[derive(Debug, Clone)]
pub enum Connector {
    Api(ApiConnector),
    Amazon(AmazonConnector),
    Ebay(EbayConnector),
    Etsy(EtsyConnector),
    Shopify(ShopifyConnector),
    Woocommerce(WooConnector),
    Walmart(WalmartConnector),
}

/// What an inbound webhook carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    /// Orders to import (the same idempotent path as polling).
    Orders(Vec<RemoteOrder>),
    /// A topic stocksync does not act on; acknowledged and dropped.
    Ignored(String),
}

impl Connector {
    pub fn new(cfg: ChannelConfig) -> Result<Self, ChannelError> {
        Self::with_policy(cfg, RetryPolicy::default())
    }

    pub fn with_policy(cfg: ChannelConfig, policy: RetryPolicy) -> Result<Self, ChannelError> {
        match cfg.kind {
            ChannelKind::Api => Ok(Self::Api(ApiConnector::new(cfg, policy)?)),
            ChannelKind::Amazon => Ok(Self::Amazon(AmazonConnector::new(cfg, policy)?)),
            ChannelKind::Ebay => Ok(Self::Ebay(EbayConnector::new(cfg, policy)?)),
            ChannelKind::Etsy => Ok(Self::Etsy(EtsyConnector::new(cfg, policy)?)),
            ChannelKind::Shopify => Ok(Self::Shopify(ShopifyConnector::new(cfg, policy)?)),
            ChannelKind::Woocommerce => Ok(Self::Woocommerce(WooConnector::new(cfg, policy)?)),
            ChannelKind::Walmart => Ok(Self::Walmart(WalmartConnector::new(cfg, policy)?)),
        }
    }

    /// The latest end a poll's window may have now. Amazon refuses windows
    /// ending less than 2 minutes ago, so its end lags; the import cursor is
    /// this end, so nothing between it and now is skipped.
    pub fn window_end(&self, now: Timestamp) -> Timestamp {
        match self {
            Self::Amazon(_) => Timestamp(now.millis() - crate::amazon::UPDATED_BEFORE_LAG_MS),
            _ => now,
        }
    }

    /// Whether stocksync polls this channel for orders.
    pub fn polls_orders(&self) -> bool {
        match self {
            Self::Api(_) => false,
            // Shopify and WooCommerce webhooks get lost (WooCommerce even
            // disables a webhook after 5 failed deliveries); polling catches
            // what they miss.
            Self::Ebay(_) | Self::Shopify(_) | Self::Woocommerce(_) => true,
            // Amazon notifies through SQS or EventBridge only, never HTTP.
            Self::Amazon(_) => true,
            // Walmart's webhooks (PO_CREATED…) are set up per seller with
            // an auth scheme the seller picks; stocksync polls instead.
            Self::Walmart(_) => true,
            // Etsy's webhooks are for commercial apps only and their signing
            // is not settled in its docs; receipts are polled.
            Self::Etsy(_) => true,
        }
    }

    /// Whether the channel may list an order change later than the change's
    /// modification time says (a search index updated asynchronously:
    /// eBay, Amazon, Shopify's `orders` query; Etsy and Walmart do not say,
    /// so they are assumed to). The importer then reaches minutes back once
    /// a minute. WooCommerce answers `modified_after` from its database, so
    /// its polls keep the short overlap, which matters when the poll is a
    /// safety net sharing the host's few requests a second with pushes.
    pub fn lists_changes_late(&self) -> bool {
        !matches!(self, Self::Api(_) | Self::Woocommerce(_))
    }

    /// Most entries one push call carries.
    pub fn push_batch_max(&self) -> usize {
        match self {
            Self::Api(_) => crate::api::PUSH_BATCH_MAX,
            Self::Amazon(_) => crate::amazon::PUSH_BATCH_MAX,
            Self::Ebay(_) => crate::ebay::PUSH_BATCH_MAX,
            Self::Etsy(_) => crate::etsy::PUSH_BATCH_MAX,
            Self::Shopify(_) => crate::shopify::PUSH_BATCH_MAX,
            Self::Woocommerce(_) => crate::woocommerce::PUSH_BATCH_MAX,
            Self::Walmart(_) => crate::walmart::PUSH_BATCH_MAX,
        }
    }

    /// Waits until a push call may go out now, taking its place in the
    /// channel's limits; call it before choosing what to push, so that what
    /// changes during the wait goes out in that call.
    pub async fn push_ready(&self) {
        match self {
            Self::Api(c) => c.push_ready().await,
            Self::Amazon(c) => c.push_ready().await,
            Self::Ebay(c) => c.push_ready().await,
            Self::Etsy(c) => c.push_ready().await,
            Self::Shopify(c) => c.push_ready().await,
            Self::Woocommerce(c) => c.push_ready().await,
            Self::Walmart(c) => c.push_ready().await,
        }
    }

    /// Sends quantities; one result per entry, in order.
    pub async fn push(&self, entries: &[PushEntry]) -> Vec<PushResult> {
        match self {
            Self::Api(c) => c.push(entries).await,
            Self::Amazon(c) => c.push(entries).await,
            Self::Ebay(c) => c.push(entries).await,
            Self::Etsy(c) => c.push(entries).await,
            Self::Shopify(c) => c.push(entries).await,
            Self::Woocommerce(c) => c.push(entries).await,
            Self::Walmart(c) => c.push(entries).await,
        }
    }

    /// Orders changed in `[since, until)`, every page.
    pub async fn fetch_orders(&self, since: Timestamp, until: Timestamp) -> Result<Vec<RemoteOrder>, ChannelError> {
        match self {
            // Orders from a seller's own store arrive through stocksync's API.
            Self::Api(_) => Ok(Vec::new()),
            Self::Amazon(c) => c.fetch_orders(since, until).await,
            Self::Ebay(c) => c.fetch_orders(since, until).await,
            Self::Etsy(c) => c.fetch_orders(since, until).await,
            Self::Shopify(c) => c.fetch_orders(since, until).await,
            Self::Woocommerce(c) => c.fetch_orders(since, until).await,
            Self::Walmart(c) => c.fetch_orders(since, until).await,
        }
    }

    /// A cheap call proving that the URL and credentials work (the UI's
    /// connection test): an empty batch for `api` channels (acknowledged,
    /// changes nothing), else the orders of the minute before `now`.
    pub async fn check(&self, now: Timestamp) -> Result<(), ChannelError> {
        match self {
            Self::Api(c) => c.push_batch(&[]).await,
            other => other.fetch_orders(Timestamp(now.0 - 60_000), now).await.map(drop),
        }
    }

    /// The channel's listings (SKU → external ids and current quantity).
    pub async fn fetch_listings(&self) -> Result<Vec<RemoteListing>, ChannelError> {
        match self {
            Self::Api(_) => Ok(Vec::new()),
            Self::Amazon(c) => c.fetch_listings().await,
            Self::Ebay(c) => c.fetch_listings().await,
            Self::Etsy(c) => c.fetch_listings().await,
            Self::Shopify(c) => c.fetch_listings().await,
            Self::Woocommerce(c) => c.fetch_listings().await,
            Self::Walmart(c) => c.fetch_listings().await,
        }
    }

    /// Verifies and reads an inbound webhook.
    pub fn verify_webhook(&self, headers: &HeaderMap, body: &[u8]) -> Result<WebhookEvent, ChannelError> {
        match self {
            Self::Api(_) => Err(ChannelError::permanent("api channels submit orders through the API, not webhooks")),
            // eBay signs notifications with ECDSA and a key fetched per `kid`;
            // until that is built, eBay orders come in by polling alone.
            Self::Ebay(_) => Err(ChannelError::permanent("eBay webhooks are not accepted: eBay orders are polled")),
            // SP-API notifications go to SQS or EventBridge; none come over HTTP.
            Self::Amazon(_) => Err(ChannelError::permanent("Amazon sends no HTTP webhooks: Amazon orders are polled")),
            Self::Etsy(_) => Err(ChannelError::permanent("Etsy webhooks are not accepted: Etsy receipts are polled")),
            Self::Shopify(c) => c.verify_webhook(headers, body),
            Self::Woocommerce(c) => c.verify_webhook(headers, body),
            // The seller picks Walmart's webhook auth (Basic, OAuth or an
            // HMAC whose encoding is not documented); orders are polled.
            Self::Walmart(_) => {
                Err(ChannelError::permanent("Walmart webhooks are not accepted: Walmart orders are polled"))
            }
        }
    }
}
