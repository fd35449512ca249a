//! The Amazon connector against the SP-API simulator: `NextToken` paging
//! with duplicated and shuffled pages, `getOrderItems` per order (once per
//! change of the order),
//! cancellations and lowered quantities, the two-minute rule, per-entry
//! patch results, per-operation buckets (429 `QuotaExceeded` without
//! `Retry-After`), and LWA tokens refreshed before and after expiry.

use std::time::{Duration, Instant};

use stocksync_channels::amazon::{AmazonConnector, RATES, Rate, Rates};
use stocksync_channels::clock::{Clock, system_now};
use stocksync_channels::http::RetryPolicy;
use stocksync_channels::model::ErrorKind;
use stocksync_channels::sim::amazon::{Account, AmazonSim, ItemSeed};
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::{self, Faults, Running};
use stocksync_channels::{ChannelConfig, Connector, PushEntry, RemoteOrder};
use stocksync_core::Timestamp;
use stocksync_core::channel::ChannelKind;
use stocksync_core::order::SourceStatus;

pub const REFRESH: &str = "Atzr|sim-refresh";

pub fn account() -> Account {
    Account {
        seller_id: "A2SIMSELLER".into(),
        marketplace_id: "ATVPDKIKX0DER".into(),
        client_id: "amzn1.application-oa2-client.sim".into(),
        client_secret: "sim-secret".into(),
        refresh_token: REFRESH.into(),
    }
}

pub fn config(url: String, refresh: &str) -> ChannelConfig {
    let a = account();
    let mut credentials = serde_json::Map::new();
    for (k, v) in [
        ("refresh_token", refresh),
        ("client_id", a.client_id.as_str()),
        ("client_secret", a.client_secret.as_str()),
        ("seller_id", a.seller_id.as_str()),
        ("marketplace_id", a.marketplace_id.as_str()),
    ] {
        credentials.insert(k.into(), v.into());
    }
    ChannelConfig { id: 11, name: "amazon".into(), kind: ChannelKind::Amazon, base_url: url, credentials }
}

pub fn fast() -> RetryPolicy {
    RetryPolicy { min_delay: Duration::from_millis(1), max_delay: Duration::from_millis(20), ..RetryPolicy::default() }
}

/// Three minutes ahead of the system clock, for the simulator and the
/// connector alike: orders made now are then past the two-minute rule.
pub fn ahead() -> Clock {
    Clock::from_fn(|| Timestamp(system_now().millis() + 180_000))
}

/// Usage plans a test can afford: nothing waits a minute.
pub fn quick() -> Rates {
    let r = Rate { per_second: 1000.0, burst: 1000 };
    Rates { get_orders: r, get_order_items: r, patch_listings_item: r, search_listings_items: r }
}

pub fn entry(sku: &str, quantity: i64, external_id: Option<&str>) -> PushEntry {
    PushEntry {
        channel_sku: sku.into(),
        sku: sku.into(),
        external_id: external_id.map(Into::into),
        quantity,
        version: 1,
    }
}

pub async fn start(sim: AmazonSim) -> (AmazonSim, Running) {
    let running = sim::spawn(sim.router(), "127.0.0.1:0").await.unwrap();
    (sim, running)
}

pub fn connector(running: &Running, rates: Rates, policy: RetryPolicy) -> AmazonConnector {
    AmazonConnector::new(config(running.url(), REFRESH), policy).unwrap().with_rates(rates).with_clock(ahead())
}

fn window() -> (Timestamp, Timestamp) {
    let now = system_now().millis();
    (Timestamp(now - 3_600_000), Timestamp(now + 3_600_000))
}

fn find<'a>(orders: &'a [RemoteOrder], id: &str) -> &'a RemoteOrder {
    orders.iter().find(|o| o.external_id == id).unwrap_or_else(|| panic!("order {id} missing"))
}

#[tokio::test]
async fn pages_through_duplicated_and_shuffled_pages_reading_each_orders_items() {
    let faults = Faults { seed: 21, duplicate_pages: 0.3, shuffle_pages: 1.0, ..Faults::default() };
    let (sim, running) = start(AmazonSim::new(account(), faults).with_rates(quick()).with_clock(ahead())).await;
    for i in 0..250 {
        sim.apply(OrderChange::create(&[("A-1", 1 + i % 3), ("B-2", 1)])).unwrap();
    }
    let c = Connector::Amazon(connector(&running, quick(), fast()));
    let (since, until) = window();
    let orders = c.fetch_orders(since, until).await.unwrap();
    assert_eq!(orders.len(), 250);
    let mut ids: Vec<&str> = orders.iter().map(|o| o.external_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 250, "each order once");
    assert!(orders.iter().all(|o| o.lines.len() == 2 && o.lines[1].channel_sku == "B-2"), "items of every order");
    let view = sim.view();
    assert!(view.stats.pages_duplicated > 0, "the fault came up");
    assert!(view.stats.calls["getOrderItems"] >= 250);
}

#[tokio::test]
async fn cancellations_lowered_quantities_and_shipments_come_through() {
    let (sim, running) = start(AmazonSim::new(account(), Faults::default()).with_clock(ahead())).await;
    let c = Connector::Amazon(connector(&running, RATES, fast()));
    let a = sim.apply(OrderChange::create(&[("A-1", 3), ("B-2", 1)])).unwrap();
    let b = sim.apply(OrderChange::create(&[("C-3", 1)])).unwrap();
    let (since, until) = window();
    let before = find(&c.fetch_orders(since, until).await.unwrap(), &a.id).clone();
    assert_eq!((before.status, before.lines[0].quantity), (SourceStatus::Open, 3));
    let item_reads = || sim.view().stats.calls["getOrderItems"];
    assert_eq!(item_reads(), 2);
    let again = c.fetch_orders(since, until).await.unwrap();
    assert_eq!(find(&again, &a.id), &before, "unchanged orders come back whole");
    assert_eq!(item_reads(), 2, "items of an order whose LastUpdateDate did not move are not read again");
    // LastUpdateDate has whole seconds, and Amazon shows an order only two
    // minutes after its last change: a change never shares its second with a read.
    let next_second = || tokio::time::sleep(Duration::from_millis(1100));
    next_second().await;
    sim.apply(OrderChange::modify(&a.id).set_line("A-1", 1)).unwrap();
    sim.apply(OrderChange::modify(&b.id).cancel()).unwrap();
    let after = c.fetch_orders(since, until).await.unwrap();
    let changed = find(&after, &a.id);
    assert_eq!((changed.lines[0].quantity, &changed.lines[0].line_id), (1, &before.lines[0].line_id));
    assert!(changed.updated_at >= before.updated_at);
    assert_eq!(find(&after, &b.id).status, SourceStatus::Cancelled);
    assert_eq!(item_reads(), 4, "both changed orders read again");
    next_second().await;
    sim.apply(OrderChange::modify(&a.id).ship()).unwrap();
    assert_eq!(find(&c.fetch_orders(since, until).await.unwrap(), &a.id).status, SourceStatus::Shipped);
}

#[tokio::test]
async fn the_window_ends_two_minutes_before_now() {
    // Simulator and connector on the system clock: fresh orders are too new to ask for.
    let (sim, running) = start(AmazonSim::new(account(), Faults::default())).await;
    sim.apply(OrderChange::create(&[("A-1", 1)])).unwrap();
    let c = AmazonConnector::new(config(running.url(), REFRESH), fast()).unwrap();
    let (since, until) = window();
    let orders = c.fetch_orders(since, until).await.unwrap();
    assert!(orders.is_empty(), "LastUpdatedBefore was clamped, and Amazon's rule held: {orders:?}");
    let recent = Timestamp(system_now().millis() - 60_000);
    assert!(c.fetch_orders(recent, until).await.unwrap().is_empty(), "nothing to ask yet: no call at all");
    assert_eq!(sim.view().stats.calls["getOrders"], 1);
}

#[tokio::test]
async fn patches_report_each_entry_from_status_and_issues() {
    let (sim, running) = start(AmazonSim::new(account(), Faults::default())).await;
    sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 9, product_type: None });
    sim.add_item(ItemSeed { sku: "B/2 x".into(), quantity: 9, product_type: Some("SHIRT".into()) });
    let c = Connector::Amazon(connector(&running, RATES, fast()));
    let listings = c.fetch_listings().await.unwrap();
    let b = listings.iter().find(|l| l.channel_sku == "B/2 x").unwrap();
    assert_eq!((b.external_id.as_deref(), b.quantity), (Some("SHIRT"), Some(9)));
    let results = c.push(&[entry("A-1", 4, None), entry("NOPE", 1, None), entry("B/2 x", 0, Some("SHIRT"))]).await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    let unknown = results[1].as_ref().unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::Permanent);
    assert!(unknown.message.contains("INVALID") && unknown.message.contains("NOPE"), "{unknown}");
    let view = sim.view();
    assert_eq!((view.listings["A-1"].quantity, view.listings["B/2 x"].quantity), (4, 0));
    assert_eq!(view.stats.calls["patchListingsItem"], 3, "one call per SKU");
    let patches = sim.patches();
    assert_eq!(patches[2]["productType"], "SHIRT");
    assert_eq!(patches[0]["productType"], "PRODUCT");
    assert_eq!(patches[0]["patches"][0]["op"], "merge");
    assert_eq!(
        patches[0]["patches"][0]["value"],
        serde_json::json!([{"fulfillment_channel_code": "DEFAULT", "quantity": 4}])
    );
}

#[tokio::test]
async fn each_operation_has_its_own_bucket_and_429s_back_off_from_its_rate() {
    let tight = Rates { get_order_items: Rate { per_second: 20.0, burst: 2 }, ..quick() };
    let (sim, running) =
        start(AmazonSim::new(account(), Faults::default()).with_rates(tight).with_clock(ahead())).await;
    for _ in 0..22 {
        sim.apply(OrderChange::create(&[("A-1", 1)])).unwrap();
    }
    let (since, until) = window();
    let started = Instant::now();
    // A little under the simulator's rate: request timing jitters on the way.
    let polite_rates = Rates { get_order_items: Rate { per_second: 18.0, burst: 2 }, ..quick() };
    let polite = connector(&running, polite_rates, fast());
    assert_eq!(polite.fetch_orders(since, until).await.unwrap().len(), 22);
    assert!(started.elapsed() >= Duration::from_millis(900), "20 items calls at 20/s: {:?}", started.elapsed());
    assert!(sim.view().stats.throttled.is_empty(), "the connector's own bucket kept it under Amazon's");

    let eager = connector(&running, quick(), RetryPolicy { retries: 60, ..fast() });
    assert_eq!(eager.fetch_orders(since, until).await.unwrap().len(), 22, "429s without Retry-After are backed off");
    assert!(sim.view().stats.throttled.get("getOrderItems").is_some_and(|n| *n > 0));

    // getOrders earns one request a minute: a 429 there is not waited out in the call.
    let slow = Rates { get_orders: Rate { per_second: 0.0167, burst: 1 }, ..quick() };
    let (_sim2, running2) =
        start(AmazonSim::new(account(), Faults::default()).with_rates(slow).with_clock(ahead())).await;
    let c = connector(&running2, Rates { get_orders: RATES.get_orders, ..quick() }, fast());
    c.fetch_orders(since, until).await.unwrap();
    let err = c.fetch_orders(since, until).await.unwrap_err();
    let ErrorKind::Throttled(Some(wait)) = err.kind else { panic!("{err}") };
    assert!(wait > Duration::from_secs(59) && wait < Duration::from_secs(61), "1 / 0.0167 s: {wait:?}");
}

#[tokio::test]
async fn lwa_tokens_are_refreshed_before_expiry_and_after_an_early_one() {
    let (sim, running) = start(AmazonSim::new(account(), Faults::default()).with_token_ttl(2)).await;
    sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 1, product_type: None });
    let c = AmazonConnector::new(config(running.url(), REFRESH), fast()).unwrap();
    c.fetch_listings().await.unwrap();
    c.fetch_listings().await.unwrap();
    assert_eq!(c.token_refreshes(), 1, "a token is kept while current");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.fetch_listings().await.unwrap();
    assert_eq!(c.token_refreshes(), 2, "replaced within its margin, before it expired");
    assert_eq!(sim.view().stats.expired_tokens_refused, 0);

    sim.expire_tokens();
    assert!(c.push(&[entry("A-1", 5, None)]).await[0].is_ok());
    assert_eq!((c.token_refreshes(), sim.view().stats.expired_tokens_refused), (3, 1), "refused once, then refreshed");
    assert_eq!(sim.view().listings["A-1"].quantity, 5);

    let wrong = AmazonConnector::new(config(running.url(), "Atzr|revoked"), fast()).unwrap();
    let err = wrong.fetch_listings().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert!(err.message.contains("invalid_grant"), "{err}");
}

#[tokio::test]
async fn injected_429s_and_500s_are_retried_through() {
    let faults = Faults { seed: 8, throttle: 0.3, error: 0.2, ..Faults::default() };
    let (sim, running) = start(AmazonSim::new(account(), faults)).await;
    sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 1, product_type: None });
    let c = Connector::Amazon(connector(&running, quick(), RetryPolicy { retries: 30, ..fast() }));
    for q in 0..5 {
        let results = c.push(&[entry("A-1", q, None)]).await;
        assert!(results[0].is_ok(), "{results:?}");
    }
    assert_eq!(sim.view().listings["A-1"].quantity, 4);
}
