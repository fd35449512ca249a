//! The Amazon, Etsy, WooCommerce and Walmart simulators behind one face, and
//! a world around some of them: a store with one item `A` at one FC, each
//! marketplace and an `api` receiver (the seller's own store) as channels,
//! the push and import workers, and one clock that the import worker,
//! Amazon's connector and every simulator read. A test moves that clock
//! forward instead of waiting out Amazon's two-minute rule.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use stocksync::workers::channels::{Channels, Live};
use stocksync::workers::import::ImportWorker;
use stocksync::workers::push::PushWorker;
use stocksync_channels::Connector;
use stocksync_channels::amazon::{Rate, Rates};
use stocksync_channels::clock::{Clock, system_now};
use stocksync_channels::http::RetryPolicy;
use stocksync_channels::sim::amazon::{self, Account, AmazonSim};
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::etsy::{self, EtsySim};
use stocksync_channels::sim::walmart::{self, WalmartSim};
use stocksync_channels::sim::woocommerce::{self, WebhookTarget, WooSim};
use stocksync_channels::sim::{self, FaultInjector, Faults, api::ApiSim};
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_core::{ChannelId, Timestamp};
use stocksync_store::{ImportReport, NewChannel, NewListing, Store};

use crate::common::{Sandbox, TestDb};

/// How far the clock moves before each Amazon poll: an order is asked for
/// only once the window's end (now − 2 min 10 s) has passed it.
const AMAZON_SETTLE_MS: i64 = 3 * 60_000;
/// Usage plans a test can afford (Amazon's own allow one `getOrders` a minute).
const QUICK: Rates = {
    let r = Rate { per_second: 1000.0, burst: 1000 };
    Rates { get_orders: r, get_order_items: r, patch_listings_item: r, search_listings_items: r }
};
/// The item every world sells, and what the store starts with.
pub const START: i64 = 10;

/// A marketplace simulator, seen through what the tests need.
pub struct Market {
    pub kind: ChannelKind,
    credentials: String,
    router: axum::Router,
    pub faults: FaultInjector,
    /// How far the world's clock moves before each poll of this market.
    settle_ms: i64,
    /// Orders per page the connector asks for.
    pub page: usize,
    /// Orders the fault tests place at once: a page and one more, so that
    /// pages can be served twice; Amazon's connector reads each order's
    /// items in a call of its own (20 calls/s at most), so it gets fewer.
    pub burst: usize,
    place: Box<dyn Fn(OrderChange) -> String + Send + Sync>,
    shown: Box<dyn Fn() -> i64 + Send + Sync>,
    duplicated: Box<dyn Fn() -> u64 + Send + Sync>,
    webhooks: Option<Box<dyn Fn(String) + Send + Sync>>,
}

/// Builds a market whose orders are stamped by `clock`.
pub type MakeMarket = fn(&Clock) -> Market;

impl Market {
    /// Places or changes an order; returns its id.
    pub fn place(&self, change: OrderChange) -> String {
        (self.place)(change)
    }

    /// The quantity the marketplace shows for `A` (-1: no listing).
    pub fn shown(&self) -> i64 {
        (self.shown)()
    }

    /// Order pages the simulator served twice so far.
    pub fn pages_duplicated(&self) -> u64 {
        (self.duplicated)()
    }

    /// Sends signed order webhooks to `url` (WooCommerce only).
    pub fn send_webhooks_to(&self, url: String) {
        (self.webhooks.as_ref().expect("this marketplace sends no webhooks"))(url);
    }
}

pub fn amazon(clock: &Clock) -> Market {
    let account = Account {
        seller_id: "A2SIMSELLER".into(),
        marketplace_id: "ATVPDKIKX0DER".into(),
        client_id: "amzn1.application-oa2-client.sim".into(),
        client_secret: "amazon-secret".into(),
        refresh_token: "Atzr|sim-refresh".into(),
    };
    let credentials = serde_json::json!({
        "refresh_token": account.refresh_token, "client_id": account.client_id,
        "client_secret": account.client_secret, "seller_id": account.seller_id,
        "marketplace_id": account.marketplace_id,
    });
    let sim = AmazonSim::new(account, Faults::default())
        .with_rates(QUICK)
        .with_clock(clock.clone())
        .with_order_clock(clock.clone());
    sim.add_item(amazon::ItemSeed { sku: "A".into(), quantity: 0, product_type: None });
    let (s1, s2, s3) = (sim.clone(), sim.clone(), sim.clone());
    Market {
        kind: ChannelKind::Amazon,
        credentials: credentials.to_string(),
        router: sim.router(),
        faults: sim.faults.clone(),
        settle_ms: AMAZON_SETTLE_MS,
        page: 100,
        burst: 5,
        place: Box::new(move |c| s1.apply(c).unwrap().id),
        shown: Box::new(move || s2.view().listings.get("A").map_or(-1, |l| l.quantity)),
        duplicated: Box::new(move || s3.view().stats.pages_duplicated),
        webhooks: None,
    }
}

pub fn etsy(clock: &Clock) -> Market {
    let sim =
        EtsySim::new("etsy-key", "etsy-secret", "1.etsy-token", 42, Faults::default()).with_order_clock(clock.clone());
    sim.add_item(etsy::ItemSeed { sku: "A".into(), quantity: 0, listing: None });
    let (s1, s2, s3) = (sim.clone(), sim.clone(), sim.clone());
    Market {
        kind: ChannelKind::Etsy,
        credentials:
            r#"{"keystring":"etsy-key","shared_secret":"etsy-secret","access_token":"1.etsy-token","shop_id":"42"}"#
                .into(),
        router: sim.router(),
        faults: sim.faults.clone(),
        settle_ms: 0,
        page: 100,
        burst: 101,
        place: Box::new(move |c| s1.apply(c).unwrap().id),
        shown: Box::new(move || s2.view().listings.get("A").map_or(-1, |l| l.quantity)),
        duplicated: Box::new(move || s3.view().stats.pages_duplicated),
        webhooks: None,
    }
}

pub fn woocommerce(clock: &Clock) -> Market {
    let sim = WooSim::new("ck_demo", "cs_demo", Faults::default()).with_order_clock(clock.clone());
    sim.add_item(woocommerce::ItemSeed { sku: "A".into(), quantity: 0, parent: None });
    let (s1, s2, s3, s4) = (sim.clone(), sim.clone(), sim.clone(), sim.clone());
    Market {
        kind: ChannelKind::Woocommerce,
        credentials: r#"{"consumer_key":"ck_demo","consumer_secret":"cs_demo","webhook_secret":"wc-hook"}"#.into(),
        router: sim.router(),
        faults: sim.faults.clone(),
        settle_ms: 0,
        page: 100,
        burst: 101,
        place: Box::new(move |c| s1.apply(c).unwrap().id),
        shown: Box::new(move || s2.view().listings.get("A").map_or(-1, |l| l.quantity.unwrap_or(-1))),
        duplicated: Box::new(move || s3.view().stats.pages_duplicated),
        webhooks: Some(Box::new(move |url| s4.set_webhook(Some(WebhookTarget { url, secret: "wc-hook".into() })))),
    }
}

pub fn walmart(clock: &Clock) -> Market {
    let sim = WalmartSim::new("wm-client", "wm-secret", Faults::default()).with_order_clock(clock.clone());
    sim.add_item(walmart::ItemSeed { sku: "A".into(), quantity: 0 });
    let (s1, s2, s3) = (sim.clone(), sim.clone(), sim.clone());
    Market {
        kind: ChannelKind::Walmart,
        credentials: r#"{"client_id":"wm-client","client_secret":"wm-secret"}"#.into(),
        router: sim.router(),
        faults: sim.faults.clone(),
        settle_ms: 0,
        page: 200,
        burst: 201,
        place: Box::new(move |c| s1.apply(c).unwrap().id),
        shown: Box::new(move || s2.view().listings.get("A").map_or(-1, |l| l.quantity)),
        duplicated: Box::new(move || s3.view().stats.pages_duplicated),
        webhooks: None,
    }
}

/// The system clock plus an offset that only grows.
#[derive(Debug, Clone, Default)]
pub struct Timeline(Arc<AtomicI64>);

impl Timeline {
    pub fn clock(&self) -> Clock {
        let offset = self.0.clone();
        Clock::from_fn(move || Timestamp(system_now().millis() + offset.load(Ordering::SeqCst)))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

pub struct World {
    pub store: Store,
    pub markets: Vec<Market>,
    /// The markets' channels, in the same order.
    pub ids: Vec<ChannelId>,
    pub api: ApiSim,
    _sims: Vec<sim::Running>,
    time: Timeline,
    channels: Channels,
    pub push: PushWorker,
    pub import: ImportWorker,
    /// Dropped after the store and the servers.
    _db: TestDb,
    _sb: Sandbox,
}

async fn channel(store: &Store, name: &str, kind: ChannelKind, url: String, credentials: String) -> ChannelId {
    let settings = ChannelSettings { poll_interval_s: 1, ..ChannelSettings::defaults(kind) };
    let ch = NewChannel { name: name.into(), kind, base_url: Some(url), credentials_json: credentials, settings };
    store.create_channel(ch).await.unwrap()
}

/// A world selling `START` units of `A` on `makers`' marketplaces and the
/// `api` receiver, with every marketplace listing linked by SKU.
pub async fn world(makers: &[MakeMarket]) -> World {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "db");
    let store = Store::open(&db.url).unwrap();
    store.create_fc(FcSpec::new("EAST", "East", 1, true).unwrap()).await.unwrap();
    store.create_item(ItemDraft { sku: "A".into(), kind: "stock".into(), ..Default::default() }, "t").await.unwrap();
    store.set_stock("A", "EAST", StockTarget::OnHand(START), None, "t").await.unwrap();
    let time = Timeline::default();
    let clock = time.clock();
    let markets: Vec<Market> = makers.iter().map(|make| make(&clock)).collect();
    let api = ApiSim::new("api-secret", Faults::default());
    let mut sims = Vec::new();
    let mut ids = Vec::new();
    for m in &markets {
        sims.push(sim::spawn(m.router.clone(), "127.0.0.1:0").await.unwrap());
        let url = sims.last().unwrap().url();
        ids.push(channel(&store, m.kind.as_str(), m.kind, url, m.credentials.clone()).await);
    }
    sims.push(sim::spawn(api.router(), "127.0.0.1:0").await.unwrap());
    let url = sims.last().unwrap().url();
    let own = channel(&store, "store", ChannelKind::Api, url, r#"{"signing_secret":"api-secret"}"#.into()).await;
    store.create_listing(own, NewListing { channel_sku: "A".into(), ..Default::default() }, "t").await.unwrap();
    let policy = RetryPolicy { retries: 2, min_delay: Duration::from_millis(1), ..RetryPolicy::default() };
    let amazon_clock = clock.clone();
    let channels = Channels::new(store.clone(), policy).with_setup(move |c| match c {
        Connector::Amazon(a) => Connector::Amazon(a.with_rates(QUICK).with_clock(amazon_clock.clone())),
        other => other,
    });
    let push = PushWorker::new(store.clone(), channels.clone(), Arc::default());
    let import = ImportWorker::new(store.clone(), channels.clone()).with_clock(clock);
    let w = World { store, markets, ids, api, _sims: sims, time, channels, push, import, _db: db, _sb: sb };
    for i in 0..w.markets.len() {
        let r = w.import.sync_listings(&w.live(i).await).await.unwrap();
        assert_eq!((r.created, r.unmapped), (1, 0), "{:?}: the listing links by SKU", w.markets[i].kind);
    }
    w
}

impl World {
    async fn live(&self, market: usize) -> Live {
        let id = self.ids[market].0;
        self.channels.load().await.unwrap().into_iter().find(|c| c.view.id == id).unwrap()
    }

    /// One poll of a market, once what was placed on it can be seen.
    pub async fn poll(&self, market: usize) -> anyhow::Result<ImportReport> {
        self.poll_after(market, self.markets[market].settle_ms).await
    }

    /// One poll after the clock moved `ms` forward. Windows are half-open
    /// and a simulator's modification clock may run a few milliseconds
    /// ahead in a burst: a change belongs to the poll after it, so also
    /// wait a little.
    pub async fn poll_after(&self, market: usize, ms: i64) -> anyhow::Result<ImportReport> {
        self.time.advance(ms);
        tokio::time::sleep(Duration::from_millis(30)).await;
        self.import.poll(&self.live(market).await).await
    }

    /// Push steps until nothing is left to send (no faults expected).
    pub async fn drain(&self) {
        for _ in 0..20 {
            let out = self.push.run_once().await.unwrap();
            if out.taken.queue_rows == 0 && out.sent == 0 && out.failed == 0 {
                return;
            }
        }
        panic!("pushes did not settle");
    }

    /// What every marketplace shows for `A`, then the `api` receiver.
    pub fn quantities(&self) -> Vec<i64> {
        let mut q: Vec<i64> = self.markets.iter().map(Market::shown).collect();
        q.push(self.api.state().listings.get("A").map_or(-1, |l| l.quantity));
        q
    }

    /// Push steps until every channel shows `want` for `A` and stocksync
    /// counts every listing in sync at that value; panics after `within`.
    pub async fn converge(&self, want: i64, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            self.push.run_once().await.unwrap();
            let inv = self.store.inventory("A").await.unwrap().unwrap();
            let synced = inv.listings.iter().all(|l| l.quantity == want && l.state == "in_sync");
            let shown = self.quantities();
            if synced && shown.iter().all(|q| *q == want) {
                assert_eq!(inv.totals.available, want);
                return;
            }
            assert!(Instant::now() < deadline, "did not converge on {want}: shown {shown:?}, {:?}", inv.listings);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
