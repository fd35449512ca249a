//! The demo's simulated marketplaces: eBay, Shopify, Amazon, Etsy,
//! WooCommerce, Walmart and a seller's own store (an `api` receiver), each
//! on its own loopback port.

use std::collections::BTreeMap;

use stocksync_channels::sim::amazon::{self, Account, AmazonSim};
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::ebay::{self, EbaySim};
use stocksync_channels::sim::etsy::{self, EtsySim};
use stocksync_channels::sim::shopify::{self, ShopifySim, WebhookTarget};
use stocksync_channels::sim::walmart::{self, WalmartSim};
use stocksync_channels::sim::woocommerce::{self, WooSim};
use stocksync_channels::sim::{self, Faults, api::ApiSim};

pub const EBAY_TOKEN: &str = "demo-ebay-token";
pub const SHOPIFY_TOKEN: &str = "demo-shopify-token";
pub const SHOPIFY_LOCATION: u64 = 1;
pub const SHOPIFY_WEBHOOK_SECRET: &str = "demo-shopify-webhook-secret";
pub const SIGNING_SECRET: &str = "demo-signing-secret";
pub const AMAZON_REFRESH: &str = "Atzr|demo-refresh";
pub const AMAZON_CLIENT: &str = "amzn1.application-oa2-client.demo";
pub const AMAZON_SECRET: &str = "demo-amazon-secret";
pub const AMAZON_SELLER: &str = "A2DEMOSELLER";
pub const AMAZON_MARKETPLACE: &str = "ATVPDKIKX0DER";
pub const ETSY_KEY: &str = "demo-etsy-key";
pub const ETSY_SECRET: &str = "demo-etsy-secret";
pub const ETSY_TOKEN: &str = "1.demo-etsy-token";
pub const ETSY_SHOP: u64 = 42;
pub const WOO_KEY: &str = "ck_demo";
pub const WOO_SECRET: &str = "cs_demo";
pub const WOO_WEBHOOK_SECRET: &str = "demo-woo-webhook-secret";
pub const WALMART_CLIENT: &str = "demo-walmart-client";
pub const WALMART_SECRET: &str = "demo-walmart-secret";

/// Which marketplace a channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Market {
    Ebay,
    Shopify,
    Amazon,
    Etsy,
    Woocommerce,
    Walmart,
    Api,
}

pub struct Markets {
    pub ebay: EbaySim,
    pub shop: ShopifySim,
    pub amazon: AmazonSim,
    pub etsy: EtsySim,
    pub woo: WooSim,
    pub walmart: WalmartSim,
    pub api: ApiSim,
    running: Vec<sim::Running>,
}

impl Markets {
    pub async fn start() -> anyhow::Result<Self> {
        let ebay = EbaySim::new(EBAY_TOKEN, Faults::default());
        let shop = ShopifySim::new(SHOPIFY_TOKEN, SHOPIFY_LOCATION, Faults::default());
        let amazon = AmazonSim::new(
            Account {
                seller_id: AMAZON_SELLER.into(),
                marketplace_id: AMAZON_MARKETPLACE.into(),
                client_id: AMAZON_CLIENT.into(),
                client_secret: AMAZON_SECRET.into(),
                refresh_token: AMAZON_REFRESH.into(),
            },
            Faults::default(),
        );
        let etsy = EtsySim::new(ETSY_KEY, ETSY_SECRET, ETSY_TOKEN, ETSY_SHOP, Faults::default());
        let woo = WooSim::new(WOO_KEY, WOO_SECRET, Faults::default());
        let walmart = WalmartSim::new(WALMART_CLIENT, WALMART_SECRET, Faults::default());
        let api = ApiSim::new(SIGNING_SECRET, Faults::default());
        let running = vec![
            sim::spawn(ebay.router(), "127.0.0.1:0").await?,
            sim::spawn(shop.router(), "127.0.0.1:0").await?,
            sim::spawn(amazon.router(), "127.0.0.1:0").await?,
            sim::spawn(etsy.router(), "127.0.0.1:0").await?,
            sim::spawn(woo.router(), "127.0.0.1:0").await?,
            sim::spawn(walmart.router(), "127.0.0.1:0").await?,
            sim::spawn(api.router(), "127.0.0.1:0").await?,
        ];
        Ok(Self { ebay, shop, amazon, etsy, woo, walmart, api, running })
    }

    /// Where a marketplace's simulator listens.
    pub fn url(&self, market: Market) -> String {
        let i = match market {
            Market::Ebay => 0,
            Market::Shopify => 1,
            Market::Amazon => 2,
            Market::Etsy => 3,
            Market::Woocommerce => 4,
            Market::Walmart => 5,
            Market::Api => 6,
        };
        self.running[i].url()
    }

    pub fn api_url(&self) -> String {
        self.url(Market::Api)
    }

    /// Lists `sku` on every marketplace (quantity 0 until stocksync pushes);
    /// returns each marketplace's id for it where its listing needs one.
    pub fn list(&self, sku: &str) -> BTreeMap<&'static str, String> {
        self.ebay.add_item(ebay::ItemSeed { sku: sku.into(), quantity: 0, offer_ids: vec![] });
        self.amazon.add_item(amazon::ItemSeed { sku: sku.into(), quantity: 0, product_type: None });
        self.walmart.add_item(walmart::ItemSeed { sku: sku.into(), quantity: 0 });
        BTreeMap::from([
            ("shopify", self.shop.add_item(shopify::ItemSeed { sku: sku.into(), quantity: 0 })),
            ("etsy", self.etsy.add_item(etsy::ItemSeed { sku: sku.into(), quantity: 0, listing: None }).to_string()),
            ("woocommerce", self.woo.add_item(woocommerce::ItemSeed { sku: sku.into(), quantity: 0, parent: None })),
        ])
    }

    /// Makes Shopify send order webhooks to stocksync.
    pub fn hook_shopify(&self, url: String) {
        self.shop.set_webhook(Some(WebhookTarget { url, secret: SHOPIFY_WEBHOOK_SECRET.into() }));
    }

    /// Makes WooCommerce send order webhooks to stocksync.
    pub fn hook_woo(&self, url: String) {
        self.woo.set_webhook(Some(woocommerce::WebhookTarget { url, secret: WOO_WEBHOOK_SECRET.into() }));
    }

    /// Places (or changes) an order on a marketplace's own side.
    pub fn place(&self, market: Market, change: OrderChange) -> anyhow::Result<String> {
        let ack = match market {
            Market::Ebay => self.ebay.apply(change),
            Market::Shopify => self.shop.apply(change),
            Market::Amazon => self.amazon.apply(change),
            Market::Etsy => self.etsy.apply(change),
            Market::Woocommerce => self.woo.apply(change),
            Market::Walmart => self.walmart.apply(change),
            Market::Api => anyhow::bail!("orders of the seller's own store arrive through the API"),
        };
        ack.map(|a| a.id).map_err(|e| anyhow::anyhow!("the simulator refused the order: {}", e.0))
    }

    /// What each marketplace shows now, by SKU.
    pub fn shown(&self, market: Market) -> BTreeMap<String, i64> {
        match market {
            Market::Ebay => self.ebay.view().listings.into_iter().map(|(k, v)| (k, v.quantity)).collect(),
            Market::Shopify => self.shop.view().listings.into_iter().map(|(k, v)| (k, v.quantity)).collect(),
            Market::Amazon => self.amazon.view().listings.into_iter().map(|(k, v)| (k, v.quantity)).collect(),
            Market::Etsy => self.etsy.view().listings.into_iter().map(|(k, v)| (k, v.quantity)).collect(),
            Market::Woocommerce => {
                self.woo.view().listings.into_iter().map(|(k, v)| (k, v.quantity.unwrap_or(-1))).collect()
            }
            Market::Walmart => self.walmart.view().listings.into_iter().map(|(k, v)| (k, v.quantity)).collect(),
            Market::Api => self.api.state().listings.into_iter().map(|(k, v)| (k, v.quantity)).collect(),
        }
    }
}
