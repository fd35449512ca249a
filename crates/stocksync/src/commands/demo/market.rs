//! The demo's simulated marketplaces: eBay, Shopify and a seller's own
//! store (an `api` receiver), each on its own loopback port.

use std::collections::BTreeMap;

use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::ebay::{self, EbaySim};
use stocksync_channels::sim::shopify::{self, ShopifySim, WebhookTarget};
use stocksync_channels::sim::{self, Faults, api::ApiSim};

pub const EBAY_TOKEN: &str = "demo-ebay-token";
pub const SHOPIFY_TOKEN: &str = "demo-shopify-token";
pub const SHOPIFY_LOCATION: u64 = 1;
pub const SHOPIFY_WEBHOOK_SECRET: &str = "demo-shopify-webhook-secret";
pub const SIGNING_SECRET: &str = "demo-signing-secret";

/// Which marketplace a channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    Ebay,
    Shopify,
    Api,
}

pub struct Markets {
    pub ebay: EbaySim,
    pub shop: ShopifySim,
    pub api: ApiSim,
    running: Vec<sim::Running>,
}

impl Markets {
    pub async fn start() -> anyhow::Result<Self> {
        let ebay = EbaySim::new(EBAY_TOKEN, Faults::default());
        let shop = ShopifySim::new(SHOPIFY_TOKEN, SHOPIFY_LOCATION, Faults::default());
        let api = ApiSim::new(SIGNING_SECRET, Faults::default());
        let running = vec![
            sim::spawn(ebay.router(), "127.0.0.1:0").await?,
            sim::spawn(shop.router(), "127.0.0.1:0").await?,
            sim::spawn(api.router(), "127.0.0.1:0").await?,
        ];
        Ok(Self { ebay, shop, api, running })
    }

    pub fn ebay_url(&self) -> String {
        self.running[0].url()
    }

    pub fn shopify_url(&self) -> String {
        self.running[1].url()
    }

    pub fn api_url(&self) -> String {
        self.running[2].url()
    }

    /// Lists `sku` on eBay and Shopify (quantity 0 until stocksync pushes);
    /// returns Shopify's inventory item id, which its listing needs.
    pub fn list(&self, sku: &str) -> String {
        self.ebay.add_item(ebay::ItemSeed { sku: sku.into(), quantity: 0, offer_ids: vec![] });
        self.shop.add_item(shopify::ItemSeed { sku: sku.into(), quantity: 0 })
    }

    /// Makes Shopify send order webhooks to stocksync.
    pub fn hook_shopify(&self, url: String) {
        self.shop.set_webhook(Some(WebhookTarget { url, secret: SHOPIFY_WEBHOOK_SECRET.into() }));
    }

    /// Places (or changes) an order on a marketplace's own side.
    pub fn place(&self, market: Market, change: OrderChange) -> anyhow::Result<String> {
        let ack = match market {
            Market::Ebay => self.ebay.apply(change),
            Market::Shopify => self.shop.apply(change),
            Market::Api => anyhow::bail!("orders of the seller's own store arrive through the API"),
        };
        ack.map(|a| a.id).map_err(|e| anyhow::anyhow!("the simulator refused the order: {}", e.0))
    }

    /// What each marketplace shows now, by SKU.
    pub fn shown(&self, market: Market) -> BTreeMap<String, i64> {
        match market {
            Market::Ebay => self.ebay.view().listings.into_iter().map(|(k, v)| (k, v.quantity)).collect(),
            Market::Shopify => self.shop.view().listings.into_iter().map(|(k, v)| (k, v.quantity)).collect(),
            Market::Api => self.api.state().listings.into_iter().map(|(k, v)| (k, v.quantity)).collect(),
        }
    }
}
