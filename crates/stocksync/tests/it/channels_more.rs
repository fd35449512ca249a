//! Orders from the Etsy, WooCommerce and Walmart simulators reach stocksync
//! by polling, allocate, and both the marketplace and the seller's own store
//! (an `api` receiver) get the new quantity; a cancellation restores it;
//! with import off nothing is deducted. (Amazon's windows must end 2
//! minutes in the past, which a test cannot wait for; its connector is
//! tested against its simulator with an injected clock in the channels crate.)

use std::sync::Arc;
use std::time::Duration;

use stocksync::workers::channels::{Channels, Live};
use stocksync::workers::import::ImportWorker;
use stocksync::workers::push::PushWorker;
use stocksync_channels::http::RetryPolicy;
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::etsy::{self, EtsySim};
use stocksync_channels::sim::walmart::{self, WalmartSim};
use stocksync_channels::sim::woocommerce::{self, WooSim};
use stocksync_channels::sim::{self, Faults, api::ApiSim};
use stocksync_core::ChannelId;
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_store::{NewChannel, NewListing, Store};

use crate::common::{Sandbox, TestDb};

/// One marketplace simulator, seen through what the test needs.
struct Market {
    kind: ChannelKind,
    credentials: String,
    router: axum::Router,
    place: Box<dyn Fn(OrderChange) -> String + Send + Sync>,
    shown: Box<dyn Fn(&str) -> i64 + Send + Sync>,
}

fn etsy_market() -> Market {
    let sim = EtsySim::new("etsy-key", "etsy-secret", "1.etsy-token", 42, Faults::default());
    sim.add_item(etsy::ItemSeed { sku: "A".into(), quantity: 0, listing: None });
    let (s1, s2) = (sim.clone(), sim.clone());
    Market {
        kind: ChannelKind::Etsy,
        credentials:
            r#"{"keystring":"etsy-key","shared_secret":"etsy-secret","access_token":"1.etsy-token","shop_id":"42"}"#
                .into(),
        router: sim.router(),
        place: Box::new(move |c| s1.apply(c).unwrap().id),
        shown: Box::new(move |sku| s2.view().listings.get(sku).map_or(-1, |l| l.quantity)),
    }
}

fn woo_market() -> Market {
    let sim = WooSim::new("ck_demo", "cs_demo", Faults::default());
    sim.add_item(woocommerce::ItemSeed { sku: "A".into(), quantity: 0, parent: None });
    let (s1, s2) = (sim.clone(), sim.clone());
    Market {
        kind: ChannelKind::Woocommerce,
        credentials: r#"{"consumer_key":"ck_demo","consumer_secret":"cs_demo","webhook_secret":"wc-hook"}"#.into(),
        router: sim.router(),
        place: Box::new(move |c| s1.apply(c).unwrap().id),
        shown: Box::new(move |sku| s2.view().listings.get(sku).map_or(-1, |l| l.quantity.unwrap_or(-1))),
    }
}

fn walmart_market() -> Market {
    let sim = WalmartSim::new("wm-client", "wm-secret", Faults::default());
    sim.add_item(walmart::ItemSeed { sku: "A".into(), quantity: 0 });
    let (s1, s2) = (sim.clone(), sim.clone());
    Market {
        kind: ChannelKind::Walmart,
        credentials: r#"{"client_id":"wm-client","client_secret":"wm-secret"}"#.into(),
        router: sim.router(),
        place: Box::new(move |c| s1.apply(c).unwrap().id),
        shown: Box::new(move |sku| s2.view().listings.get(sku).map_or(-1, |l| l.quantity)),
    }
}

struct World {
    store: Store,
    market: Market,
    api: ApiSim,
    _sims: Vec<sim::Running>,
    channel: ChannelId,
    channels: Channels,
    push: PushWorker,
    import: ImportWorker,
    /// After the store, the workers and the simulators, which use it.
    _db: TestDb,
    _sb: Sandbox,
}

async fn world(market: Market) -> World {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "db");
    let store = Store::open(&db.url).unwrap();
    store.create_fc(FcSpec::new("EAST", "East", 1, true).unwrap()).await.unwrap();
    store.create_item(ItemDraft { sku: "A".into(), kind: "stock".into(), ..Default::default() }, "t").await.unwrap();
    store.set_stock("A", "EAST", StockTarget::OnHand(10), None, "t").await.unwrap();
    let api = ApiSim::new("api-secret", Faults::default());
    let sims = vec![
        sim::spawn(market.router.clone(), "127.0.0.1:0").await.unwrap(),
        sim::spawn(api.router(), "127.0.0.1:0").await.unwrap(),
    ];
    let settings = ChannelSettings { poll_interval_s: 1, ..ChannelSettings::defaults(market.kind) };
    let channel = store
        .create_channel(NewChannel {
            name: market.kind.as_str().into(),
            kind: market.kind,
            base_url: Some(sims[0].url()),
            credentials_json: market.credentials.clone(),
            settings,
        })
        .await
        .unwrap();
    let own = store
        .create_channel(NewChannel {
            name: "store".into(),
            kind: ChannelKind::Api,
            base_url: Some(sims[1].url()),
            credentials_json: r#"{"signing_secret":"api-secret"}"#.into(),
            settings: ChannelSettings::defaults(ChannelKind::Api),
        })
        .await
        .unwrap();
    store.create_listing(own, NewListing { channel_sku: "A".into(), ..Default::default() }, "t").await.unwrap();
    let policy = RetryPolicy { retries: 2, min_delay: Duration::from_millis(1), ..RetryPolicy::default() };
    let channels = Channels::new(store.clone(), policy);
    let push = PushWorker::new(store.clone(), channels.clone(), Arc::default());
    let import = ImportWorker::new(store.clone(), channels.clone());
    let w = World { store, market, api, _sims: sims, channel, channels, push, import, _db: db, _sb: sb };
    let r = w.import.sync_listings(&w.live().await).await.unwrap();
    assert_eq!((r.created, r.unmapped), (1, 0), "the marketplace's listing links by SKU");
    w
}

impl World {
    async fn live(&self) -> Live {
        self.channels.load().await.unwrap().into_iter().find(|c| c.view.id == self.channel.0).unwrap()
    }

    /// One poll. Windows are half-open and a simulator's modification clock
    /// may run a few milliseconds ahead in a burst: a change belongs to the
    /// poll after it, so wait a little first.
    async fn poll(&self) -> stocksync_store::ImportReport {
        tokio::time::sleep(Duration::from_millis(30)).await;
        self.import.poll(&self.live().await).await.unwrap()
    }

    async fn drain(&self) {
        for _ in 0..20 {
            let out = self.push.run_once().await.unwrap();
            if out.taken.queue_rows == 0 && out.sent == 0 && out.failed == 0 {
                return;
            }
        }
        panic!("pushes did not settle");
    }

    fn both(&self) -> (i64, i64) {
        ((self.market.shown)("A"), self.api.state().listings.get("A").map_or(-1, |l| l.quantity))
    }
}

async fn order_cancel_and_import_off(market: Market) {
    let kind = market.kind;
    let w = world(market).await;
    w.drain().await;
    assert_eq!(w.both(), (10, 10), "{kind:?}: starting quantities pushed");
    let id = (w.market.place)(OrderChange::create(&[("A", 3)]));
    let r = w.poll().await;
    assert_eq!(r.created, 1, "{kind:?}: {r:?}");
    let order = w.store.orders(Default::default(), 1).await.unwrap().remove(0);
    assert_eq!((order.status.as_str(), order.fulfillment_centers.as_slice()), ("allocated", &["EAST".to_owned()][..]));
    w.drain().await;
    assert_eq!(w.both(), (7, 7), "{kind:?}: the sale reached both");
    (w.market.place)(OrderChange::modify(&id).cancel());
    assert_eq!(w.poll().await.changed, 1, "{kind:?}");
    w.drain().await;
    assert_eq!(w.both(), (10, 10), "{kind:?}: the cancellation restored and re-pushed");
    w.store
        .update_channel(w.channel.0, |e| {
            e.settings.import_orders = false;
            Ok(())
        })
        .await
        .unwrap();
    (w.market.place)(OrderChange::create(&[("A", 2)]));
    assert_eq!(w.poll().await, Default::default(), "{kind:?}: import off reads nothing");
    assert_eq!(w.store.inventory("A").await.unwrap().unwrap().totals.available, 10, "{kind:?}: nothing deducted");
    assert_eq!(w.store.check().await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn etsy_orders_reach_every_channel() {
    order_cancel_and_import_off(etsy_market()).await;
}

#[tokio::test]
async fn woocommerce_orders_reach_every_channel() {
    order_cancel_and_import_off(woo_market()).await;
}

#[tokio::test]
async fn walmart_orders_reach_every_channel() {
    order_cancel_and_import_off(walmart_market()).await;
}
