//! The simulated marketplaces `stocksync demo` and `bench e2e` run: eBay,
//! Shopify, Amazon, Etsy, WooCommerce, Walmart and a seller's own store (an
//! `api` receiver), each on its own loopback port, with the credentials a
//! stocksync channel needs to reach each of them.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use stocksync_core::channel::ChannelKind;

use stocksync_channels::sim::amazon::{self, Account, AmazonSim};
use stocksync_channels::sim::control::{OrderChange, WebhookTarget};
use stocksync_channels::sim::ebay::{self, EbaySim};
use stocksync_channels::sim::etsy::{self, EtsySim};
use stocksync_channels::sim::shopify::{self, ShopifySim};
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

/// The name a marketplace's channel gets in stocksync.
pub fn channel_name(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Api => "my-store",
        k => k.as_str(),
    }
}

/// What a marketplace shows for one SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    pub quantity: i64,
    /// When stocksync last set it, in ms since the epoch (0: never).
    pub set_at_ms: i64,
}

#[derive(Debug)]
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
    pub fn url(&self, market: ChannelKind) -> String {
        let i = match market {
            ChannelKind::Ebay => 0,
            ChannelKind::Shopify => 1,
            ChannelKind::Amazon => 2,
            ChannelKind::Etsy => 3,
            ChannelKind::Woocommerce => 4,
            ChannelKind::Walmart => 5,
            ChannelKind::Api => 6,
        };
        self.running[i].url()
    }

    /// The `credentials` of the stocksync channel for `market`.
    pub fn credentials(&self, market: ChannelKind) -> Value {
        match market {
            ChannelKind::Ebay => json!({"access_token": EBAY_TOKEN}),
            ChannelKind::Shopify => json!({"access_token": SHOPIFY_TOKEN, "location_id": SHOPIFY_LOCATION.to_string(),
                                      "webhook_secret": SHOPIFY_WEBHOOK_SECRET}),
            ChannelKind::Amazon => json!({"refresh_token": AMAZON_REFRESH, "client_id": AMAZON_CLIENT,
                                     "client_secret": AMAZON_SECRET, "seller_id": AMAZON_SELLER,
                                     "marketplace_id": AMAZON_MARKETPLACE}),
            ChannelKind::Etsy => json!({"keystring": ETSY_KEY, "shared_secret": ETSY_SECRET,
                                   "access_token": ETSY_TOKEN, "shop_id": ETSY_SHOP.to_string()}),
            ChannelKind::Woocommerce => json!({"consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET,
                                          "webhook_secret": WOO_WEBHOOK_SECRET}),
            ChannelKind::Walmart => json!({"client_id": WALMART_CLIENT, "client_secret": WALMART_SECRET}),
            ChannelKind::Api => json!({"signing_secret": SIGNING_SECRET}),
        }
    }

    /// Lists `sku` on every marketplace, showing `quantity`; returns each
    /// marketplace's id for it where its listing needs one (the listing's
    /// `external_id`: Shopify's inventory item, Etsy's listing, WooCommerce's product).
    pub fn list(&self, sku: &str, quantity: i64) -> BTreeMap<ChannelKind, String> {
        self.ebay.add_item(ebay::ItemSeed { sku: sku.into(), quantity, offer_ids: vec![] });
        self.amazon.add_item(amazon::ItemSeed { sku: sku.into(), quantity, product_type: None });
        self.walmart.add_item(walmart::ItemSeed { sku: sku.into(), quantity });
        BTreeMap::from([
            (ChannelKind::Shopify, self.shop.add_item(shopify::ItemSeed { sku: sku.into(), quantity })),
            (
                ChannelKind::Etsy,
                self.etsy.add_item(etsy::ItemSeed { sku: sku.into(), quantity, listing: None }).to_string(),
            ),
            (
                ChannelKind::Woocommerce,
                self.woo.add_item(woocommerce::ItemSeed { sku: sku.into(), quantity, parent: None }),
            ),
        ])
    }

    /// Makes `market` send its order webhooks to `url` (stocksync's
    /// `/webhooks/{channel}`); false for a marketplace stocksync only polls.
    pub fn hook(&self, market: ChannelKind, url: String) -> bool {
        match market {
            ChannelKind::Shopify => {
                self.shop.set_webhook(Some(WebhookTarget { url, secret: SHOPIFY_WEBHOOK_SECRET.into() }));
                true
            }
            ChannelKind::Woocommerce => {
                self.woo.set_webhook(Some(WebhookTarget { url, secret: WOO_WEBHOOK_SECRET.into() }));
                true
            }
            _ => false,
        }
    }

    /// Places (or changes) an order on a marketplace's own side.
    pub fn place(&self, market: ChannelKind, change: OrderChange) -> anyhow::Result<String> {
        let ack = match market {
            ChannelKind::Ebay => self.ebay.apply(change),
            ChannelKind::Shopify => self.shop.apply(change),
            ChannelKind::Amazon => self.amazon.apply(change),
            ChannelKind::Etsy => self.etsy.apply(change),
            ChannelKind::Woocommerce => self.woo.apply(change),
            ChannelKind::Walmart => self.walmart.apply(change),
            ChannelKind::Api => anyhow::bail!("orders of the seller's own store arrive through the API"),
        };
        ack.map(|a| a.id).map_err(|e| anyhow::anyhow!("the simulator refused the order: {}", e.0))
    }

    /// What a marketplace shows now, by SKU (an unmanaged WooCommerce stock shows -1).
    pub fn shown(&self, market: ChannelKind) -> BTreeMap<String, Shown> {
        let shown = |quantity, set_at_ms| Shown { quantity, set_at_ms };
        match market {
            ChannelKind::Ebay => {
                self.ebay.view().listings.into_iter().map(|(k, v)| (k, shown(v.quantity, v.set_at_ms))).collect()
            }
            ChannelKind::Shopify => {
                self.shop.view().listings.into_iter().map(|(k, v)| (k, shown(v.quantity, v.set_at_ms))).collect()
            }
            ChannelKind::Amazon => {
                self.amazon.view().listings.into_iter().map(|(k, v)| (k, shown(v.quantity, v.set_at_ms))).collect()
            }
            ChannelKind::Etsy => {
                self.etsy.view().listings.into_iter().map(|(k, v)| (k, shown(v.quantity, v.set_at_ms))).collect()
            }
            ChannelKind::Woocommerce => self
                .woo
                .view()
                .listings
                .into_iter()
                .map(|(k, v)| (k, shown(v.quantity.unwrap_or(-1), v.set_at_ms)))
                .collect(),
            ChannelKind::Walmart => {
                self.walmart.view().listings.into_iter().map(|(k, v)| (k, shown(v.quantity, v.set_at_ms))).collect()
            }
            ChannelKind::Api => {
                self.api.state().listings.into_iter().map(|(k, v)| (k, shown(v.quantity, v.at_ms))).collect()
            }
        }
    }
}
