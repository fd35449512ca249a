//! Orders from simulated eBay and Shopify reach stocksync (polling and
//! webhooks), allocate, and every channel receives the new quantity.

use std::sync::Arc;
use std::time::Duration;

use stocksync::http::AppState;
use stocksync::workers::channels::{Channels, Live};
use stocksync::workers::import::ImportWorker;
use stocksync::workers::push::PushWorker;
use stocksync_channels::http::RetryPolicy;
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::ebay::{self, EbaySim};
use stocksync_channels::sim::shopify::{self, ShopifySim, WebhookTarget};
use stocksync_channels::sim::{self, Faults, api::ApiSim};
use stocksync_core::ChannelId;
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_store::{NewChannel, NewListing, Store};

use crate::common::{Sandbox, TestDb};

const SKUS: [&str; 2] = ["A", "B"];

struct World {
    store: Store,
    ebay: EbaySim,
    shop: ShopifySim,
    api: ApiSim,
    _sims: Vec<sim::Running>,
    ids: [ChannelId; 3],
    channels: Channels,
    push: PushWorker,
    import: ImportWorker,
    /// After the store, the workers and the simulators, which use it.
    _db: TestDb,
    _sb: Sandbox,
}

fn quick() -> RetryPolicy {
    RetryPolicy { retries: 2, min_delay: Duration::from_millis(1), ..RetryPolicy::default() }
}

async fn channel(store: &Store, name: &str, kind: ChannelKind, url: String, creds: &str) -> ChannelId {
    let mut settings = ChannelSettings::defaults(kind);
    settings.poll_interval_s = 1;
    let ch = NewChannel { name: name.into(), kind, base_url: Some(url), credentials_json: creds.into(), settings };
    store.create_channel(ch).await.unwrap()
}

async fn world() -> World {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "db");
    let store = Store::open(&db.url).unwrap();
    store.create_fc(FcSpec::new("EAST", "East", 1, true).unwrap()).await.unwrap();
    for sku in SKUS {
        store
            .create_item(ItemDraft { sku: sku.into(), kind: "stock".into(), ..Default::default() }, "t")
            .await
            .unwrap();
        store.set_stock(sku, "EAST", StockTarget::OnHand(10), None, "t").await.unwrap();
    }
    let ebay = EbaySim::new("ebay-token", Faults::default());
    let shop = ShopifySim::new("shop-token", 7, Faults::default());
    let api = ApiSim::new("api-secret", Faults::default());
    for sku in SKUS {
        ebay.add_item(ebay::ItemSeed { sku: sku.into(), quantity: 0, offer_ids: vec![] });
        shop.add_item(shopify::ItemSeed { sku: sku.into(), quantity: 0 });
    }
    let sims = vec![
        sim::spawn(ebay.router(), "127.0.0.1:0").await.unwrap(),
        sim::spawn(shop.router(), "127.0.0.1:0").await.unwrap(),
        sim::spawn(api.router(), "127.0.0.1:0").await.unwrap(),
    ];
    let ids = [
        channel(&store, "ebay", ChannelKind::Ebay, sims[0].url(), r#"{"access_token":"ebay-token"}"#).await,
        channel(
            &store,
            "shopify",
            ChannelKind::Shopify,
            sims[1].url(),
            r#"{"access_token":"shop-token","location_id":"7","webhook_secret":"hook-secret"}"#,
        )
        .await,
        channel(&store, "store", ChannelKind::Api, sims[2].url(), r#"{"signing_secret":"api-secret"}"#).await,
    ];
    for sku in SKUS {
        store.create_listing(ids[2], NewListing { channel_sku: sku.into(), ..Default::default() }, "t").await.unwrap();
    }
    let channels = Channels::new(store.clone(), quick());
    let push = PushWorker::new(store.clone(), channels.clone(), Arc::default());
    let import = ImportWorker::new(store.clone(), channels.clone());
    let w = World { store, ebay, shop, api, _sims: sims, ids, channels, push, import, _db: db, _sb: sb };
    for id in &w.ids[..2] {
        let r = w.import.sync_listings(&w.live(*id).await).await.unwrap();
        assert_eq!((r.created, r.unmapped), (2, 0), "listings link by SKU");
    }
    w
}

impl World {
    async fn live(&self, id: ChannelId) -> Live {
        self.channels.load().await.unwrap().into_iter().find(|c| c.view.id == id.0).unwrap()
    }

    /// One poll of a channel. Windows are half-open (`[since, until)`), so a
    /// change made in this very millisecond belongs to the next poll: wait one.
    async fn poll(&self, id: ChannelId) -> anyhow::Result<stocksync_store::ImportReport> {
        tokio::time::sleep(Duration::from_millis(3)).await;
        self.import.poll(&self.live(id).await).await
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

    /// `(ebay, shopify, api)` quantities of `sku`.
    fn everywhere(&self, sku: &str) -> (i64, i64, i64) {
        (
            self.ebay.view().listings[sku].quantity,
            self.shop.view().listings.get(sku).map_or(-1, |l| l.quantity),
            self.api.state().listings.get(sku).map_or(-1, |l| l.quantity),
        )
    }
}

#[tokio::test]
async fn an_ebay_order_reaches_every_channel_and_its_cancellation_too() {
    let w = world().await;
    w.drain().await;
    assert_eq!(w.everywhere("A"), (10, 10, 10), "starting quantities pushed");
    let ack = w.ebay.apply(OrderChange::create(&[("A", 3)])).unwrap();
    let r = w.poll(w.ids[0]).await.unwrap();
    assert_eq!(r.created, 1, "{r:?}");
    w.drain().await;
    assert_eq!(w.everywhere("A"), (7, 7, 7));
    // Polling again (the overlap window sees it again) changes nothing.
    assert_eq!(w.poll(w.ids[0]).await.unwrap().created, 0);
    w.ebay.apply(OrderChange::modify(&ack.id).cancel()).unwrap();
    let r = w.poll(w.ids[0]).await.unwrap();
    assert_eq!(r.changed, 1, "{r:?}");
    w.drain().await;
    assert_eq!(w.everywhere("A"), (10, 10, 10));
    assert_eq!(w.store.check().await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn a_shopify_webhook_imports_without_a_poll() {
    let w = world().await;
    w.drain().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/{}", listener.local_addr().unwrap(), w.ids[1].0);
    let app = stocksync::http::router(AppState::new(w.store.clone()));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    w.shop.set_webhook(Some(WebhookTarget { url, secret: "hook-secret".into() }));
    w.shop.apply(OrderChange::create(&[("B", 4)])).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while w.store.stats().await.unwrap().orders == 0 {
        assert!(std::time::Instant::now() < deadline, "the webhook did not arrive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    w.drain().await;
    assert_eq!(w.everywhere("B"), (6, 6, 6));
    // A poll afterwards sees the same order and changes nothing.
    let r = w.poll(w.ids[1]).await.unwrap();
    assert_eq!((r.created, r.changed), (0, 0), "{r:?}");
    server.abort();
}

#[tokio::test]
async fn with_import_orders_off_nothing_is_imported() {
    let w = world().await;
    w.store
        .update_channel(w.ids[0].0, |e| {
            e.settings.import_orders = false;
            Ok(())
        })
        .await
        .unwrap();
    w.ebay.apply(OrderChange::create(&[("A", 3)])).unwrap();
    let r = w.poll(w.ids[0]).await.unwrap();
    assert_eq!(r, Default::default());
    assert_eq!(w.store.stats().await.unwrap().orders, 0);
    assert_eq!(w.store.inventory("A").await.unwrap().unwrap().totals.available, 10, "nothing deducted");
}

#[tokio::test]
async fn faults_on_every_channel_still_converge() {
    let w = world().await;
    let faults = Faults { seed: 3, throttle: 0.2, retry_after_s: 0, error: 0.2, ..Faults::default() };
    w.ebay.faults.set(faults.clone());
    w.shop.faults.set(faults.clone());
    w.api.faults.set(Faults { lose_answer: 0.3, ..faults });
    for q in [1, 2, 2] {
        w.ebay.apply(OrderChange::create(&[("A", q)])).unwrap();
    }
    let mut imported = 0;
    for _ in 0..20 {
        if let Ok(r) = w.poll(w.ids[0]).await {
            imported += r.created;
        }
        if imported == 3 {
            break;
        }
    }
    assert_eq!(imported, 3);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while w.everywhere("A") != (5, 5, 5) {
        assert!(std::time::Instant::now() < deadline, "did not converge: {:?}", w.everywhere("A"));
        let _ = w.push.run_once().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(w.api.state().stale.is_empty());
    assert_eq!(w.store.check().await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn a_shopify_order_is_imported_by_polling_alone() {
    let w = world().await;
    w.drain().await;
    // No webhook configured: only the poll can find it.
    w.shop.apply(OrderChange::create(&[("A", 2), ("B", 1)])).unwrap();
    let r = w.poll(w.ids[1]).await.unwrap();
    assert_eq!(r.created, 1, "{r:?}");
    w.drain().await;
    assert_eq!((w.everywhere("A"), w.everywhere("B")), ((8, 8, 8), (9, 9, 9)));
    let order = w.store.orders(Default::default(), 10).await.unwrap().remove(0);
    assert_eq!((order.status.as_str(), order.fulfillment_centers.as_slice()), ("allocated", &["EAST".to_owned()][..]));
}

/// Faults on one marketplace delay only its own pushes; once it recovers,
/// every listing on every marketplace shows what `/inventory` computes.
#[tokio::test]
async fn a_failing_marketplace_does_not_hold_back_the_others_and_converges_after() {
    let w = world().await;
    w.drain().await;
    w.shop.faults.set(Faults { error: 1.0, ..Faults::default() });
    w.ebay.apply(OrderChange::create(&[("A", 4)])).unwrap();
    assert_eq!(w.poll(w.ids[0]).await.unwrap().created, 1);
    for _ in 0..3 {
        w.push.run_once().await.unwrap();
    }
    let (ebay, shop, api) = w.everywhere("A");
    assert_eq!((ebay, api), (6, 6), "the healthy channels got the new quantity");
    assert_eq!(shop, 10, "the failing one still shows the old one");
    let status = w.store.sync_status().await.unwrap();
    let shopify = status.iter().find(|c| c.name == "shopify").unwrap();
    assert!(shopify.failed_pushes >= 1, "{shopify:?}");

    w.shop.faults.set(Faults::default());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let _ = w.push.run_once().await;
        let inv = w.store.inventory("A").await.unwrap().unwrap();
        let want: Vec<i64> = inv.listings.iter().map(|l| l.quantity).collect();
        let (e, s, a) = w.everywhere("A");
        if want.iter().all(|q| *q == 6) && (e, s, a) == (6, 6, 6) {
            assert!(inv.listings.iter().all(|l| l.state == "in_sync"), "{:?}", inv.listings);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "did not converge: {:?} vs {want:?}", (e, s, a));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(w.store.check().await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn imported_quantities_go_to_the_source_fc() {
    let w = world().await;
    w.store.create_fc(FcSpec::new("FBA", "Marketplace warehouse", 9, true).unwrap()).await.unwrap();
    w.store
        .update_channel(w.ids[0].0, |e| {
            e.settings.import_quantities = true;
            e.settings.push_quantities = false;
            e.settings.source_fc = Some(stocksync_core::values::FcCode::parse("FBA").unwrap());
            Ok(())
        })
        .await
        .unwrap();
    w.ebay.add_item(ebay::ItemSeed { sku: "A".into(), quantity: 7, offer_ids: vec![] });
    let r = w.import.sync_listings(&w.live(w.ids[0]).await).await.unwrap();
    assert!(r.quantities >= 1, "{r:?}");
    let inv = w.store.inventory("A").await.unwrap().unwrap();
    let fba = inv.levels.iter().find(|(fc, _)| fc == "FBA").unwrap().1;
    assert_eq!(fba.available, 7);
    let movements = w
        .store
        .movements(stocksync_store::views::MovementFilter { fc: Some("FBA".into()), ..Default::default() }, 10)
        .await
        .unwrap();
    assert_eq!(movements.last().unwrap().reason, "imported from channel");
}
