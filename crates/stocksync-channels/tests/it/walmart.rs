//! The Walmart connector against the Walmart simulator: `nextCursor`
//! paging with duplicated and shuffled pages, per-line cancellation,
//! per-SKU inventory results, the call allowance (`x-current-token-count`,
//! `x-next-replenish-time`) obeyed before and after a 429, and
//! client-credentials tokens refreshed before and after expiry.

use std::time::{Duration, Instant};

use stocksync_channels::clock::system_now;
use stocksync_channels::http::RetryPolicy;
use stocksync_channels::model::ErrorKind;
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::walmart::{ItemSeed, WalmartSim};
use stocksync_channels::sim::{self, Faults, Running};
use stocksync_channels::walmart::WalmartConnector;
use stocksync_channels::{ChannelConfig, Connector, PushEntry, RemoteOrder};
use stocksync_core::Timestamp;
use stocksync_core::channel::ChannelKind;
use stocksync_core::order::SourceStatus;

pub const CLIENT_ID: &str = "wm-sim-client";
pub const CLIENT_SECRET: &str = "wm-sim-secret";

pub fn config(url: String, secret: &str) -> ChannelConfig {
    let mut credentials = serde_json::Map::new();
    credentials.insert("client_id".into(), CLIENT_ID.into());
    credentials.insert("client_secret".into(), secret.into());
    ChannelConfig { id: 13, name: "walmart".into(), kind: ChannelKind::Walmart, base_url: url, credentials }
}

pub fn fast() -> RetryPolicy {
    RetryPolicy { min_delay: Duration::from_millis(1), max_delay: Duration::from_millis(20), ..RetryPolicy::default() }
}

pub fn entry(sku: &str, quantity: i64) -> PushEntry {
    PushEntry { channel_sku: sku.into(), sku: sku.into(), external_id: None, quantity, version: 1 }
}

pub async fn start(sim: WalmartSim) -> (WalmartSim, Running, WalmartConnector) {
    let running = sim::spawn(sim.router(), "127.0.0.1:0").await.unwrap();
    let c = WalmartConnector::new(config(running.url(), CLIENT_SECRET), fast()).unwrap();
    (sim, running, c)
}

fn plain() -> WalmartSim {
    WalmartSim::new(CLIENT_ID, CLIENT_SECRET, Faults::default())
}

fn window() -> (Timestamp, Timestamp) {
    let now = system_now().millis();
    (Timestamp(now - 3_600_000), Timestamp(now + 3_600_000))
}

fn find<'a>(orders: &'a [RemoteOrder], id: &str) -> &'a RemoteOrder {
    orders.iter().find(|o| o.external_id == id).unwrap_or_else(|| panic!("order {id} missing"))
}

#[tokio::test]
async fn pages_through_duplicated_and_shuffled_cursor_pages_without_losing_an_order() {
    let faults = Faults { seed: 9, duplicate_pages: 0.5, shuffle_pages: 1.0, ..Faults::default() };
    let (sim, _running, c) = start(WalmartSim::new(CLIENT_ID, CLIENT_SECRET, faults)).await;
    for i in 0..450 {
        sim.apply(OrderChange::create(&[("A-1", 1 + i % 3)])).unwrap();
    }
    let (since, until) = window();
    let orders = Connector::Walmart(c).fetch_orders(since, until).await.unwrap();
    assert_eq!(orders.len(), 450);
    let mut ids: Vec<&str> = orders.iter().map(|o| o.external_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 450, "each order once");
    assert!(sim.view().stats.pages_duplicated > 0, "the fault came up");
}

#[tokio::test]
async fn cancelled_lines_lose_their_units_and_order_status_follows_the_lines() {
    let (sim, _running, c) = start(plain()).await;
    let a = sim.apply(OrderChange::create(&[("A-1", 3), ("B-2", 1)])).unwrap();
    let b = sim.apply(OrderChange::create(&[("C-3", 2)])).unwrap();
    let (since, until) = window();
    let before = find(&c.fetch_orders(since, until).await.unwrap(), &a.id).clone();
    assert_eq!(
        (before.status, before.lines[0].quantity, before.lines[0].line_id.as_str()),
        (SourceStatus::Open, 3, "1")
    );
    sim.apply(OrderChange::modify(&a.id).set_line("A-1", 1)).unwrap();
    sim.apply(OrderChange::modify(&b.id).cancel()).unwrap();
    let after = c.fetch_orders(since, until).await.unwrap();
    let changed = find(&after, &a.id);
    assert_eq!((changed.lines[0].quantity, changed.lines[1].quantity), (1, 1), "2 units of line 1 cancelled");
    assert!(changed.updated_at > before.updated_at, "the line's statusDate moved");
    let cancelled = find(&after, &b.id);
    // A wholly cancelled order keeps its lines as ordered: the status says it.
    assert_eq!((cancelled.status, cancelled.lines[0].quantity), (SourceStatus::Cancelled, 2));
    sim.apply(OrderChange::modify(&a.id).ship()).unwrap();
    assert_eq!(find(&c.fetch_orders(since, until).await.unwrap(), &a.id).status, SourceStatus::Shipped);
}

#[tokio::test]
async fn inventory_puts_report_each_sku_and_listings_page_by_cursor() {
    let (sim, _running, c) = start(plain()).await;
    for i in 0..60 {
        sim.add_item(ItemSeed { sku: format!("S-{i:02}"), quantity: i });
    }
    sim.add_item(ItemSeed { sku: "B 2/x".into(), quantity: 9 });
    let listings = c.fetch_listings().await.unwrap();
    assert_eq!(listings.len(), 61);
    assert_eq!(listings.iter().find(|l| l.channel_sku == "S-59").unwrap().quantity, Some(59));
    let results = c.push(&[entry("S-01", 4), entry("NOPE", 1), entry("B 2/x", 0)]).await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    let unknown = results[1].as_ref().unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::Permanent);
    assert!(unknown.message.contains("404") && unknown.message.contains("NOPE"), "{unknown}");
    let view = sim.view();
    assert_eq!((view.listings["S-01"].quantity, view.listings["B 2/x"].quantity), (4, 0));
    let bodies = sim.inventory_requests();
    assert_eq!(bodies[0], serde_json::json!({"sku": "S-01", "quantity": {"unit": "EACH", "amount": 4}}));
}

#[tokio::test]
async fn an_empty_allowance_is_waited_out_before_walmart_has_to_say_429() {
    let (sim, _running, c) = start(plain().with_allowance("inventory", 3, 500)).await;
    for i in 0..7 {
        sim.add_item(ItemSeed { sku: format!("S-{i}"), quantity: 0 });
    }
    let started = Instant::now();
    let entries: Vec<PushEntry> = (0..7).map(|i| entry(&format!("S-{i}"), 5)).collect();
    let results = c.push(&entries).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(started.elapsed() >= Duration::from_millis(500), "paused for a refill: {:?}", started.elapsed());
    assert!(sim.view().stats.throttled.is_empty(), "stopped at zero instead of meeting 429s");

    let (sim, _running, c) = start(plain().with_allowance("inventory", 2, 60_000)).await;
    sim.add_item(ItemSeed { sku: "A".into(), quantity: 0 });
    let results = c.push(&[entry("A", 1), entry("A", 2), entry("A", 3)]).await;
    assert!(results[0].is_ok() && results[1].is_ok());
    let ErrorKind::Throttled(Some(wait)) = results[2].as_ref().unwrap_err().kind else { panic!("{results:?}") };
    assert!(wait > Duration::from_secs(50), "until the window refills: {wait:?}");
    assert_eq!(sim.view().stats.calls["inventory"], 2, "no call was spent on a sure refusal");
    // Walmart counts each API apart: a spent inventory allowance does not stop order polls.
    sim.apply(OrderChange::create(&[("A", 1)])).unwrap();
    let now = system_now().millis();
    let orders = c.fetch_orders(Timestamp(now - 60_000), Timestamp(now + 60_000)).await.unwrap();
    assert_eq!(orders.len(), 1);
}

#[tokio::test]
async fn a_429_waits_for_the_replenish_time() {
    let faults = Faults { throttle: 1.0, retry_after_s: 1, ..Faults::default() };
    let (sim, running, _) = start(WalmartSim::new(CLIENT_ID, CLIENT_SECRET, faults)).await;
    sim.add_item(ItemSeed { sku: "A".into(), quantity: 0 });
    let c = WalmartConnector::new(config(running.url(), CLIENT_SECRET), RetryPolicy { retries: 1, ..fast() }).unwrap();
    let started = Instant::now();
    let results = c.push(&[entry("A", 1)]).await;
    assert!(started.elapsed() >= Duration::from_millis(900), "waited for x-next-replenish-time");
    assert!(matches!(results[0].as_ref().unwrap_err().kind, ErrorKind::Throttled(Some(_))), "{results:?}");

    sim.faults.set(Faults { seed: 2, throttle: 0.3, retry_after_s: 0, error: 0.2, ..Faults::default() });
    let c = WalmartConnector::new(config(running.url(), CLIENT_SECRET), RetryPolicy { retries: 30, ..fast() }).unwrap();
    for q in 0..5 {
        assert!(c.push(&[entry("A", q)]).await[0].is_ok());
    }
    assert_eq!(sim.view().listings["A"].quantity, 4);
}

#[tokio::test]
async fn tokens_are_refreshed_before_expiry_and_after_an_early_one() {
    let (sim, running, c) = start(plain().with_token_ttl(2)).await;
    sim.add_item(ItemSeed { sku: "A".into(), quantity: 0 });
    c.fetch_listings().await.unwrap();
    c.fetch_listings().await.unwrap();
    assert_eq!(c.token_refreshes(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.fetch_listings().await.unwrap();
    assert_eq!((c.token_refreshes(), sim.view().stats.expired_tokens_refused), (2, 0));
    sim.expire_tokens();
    assert!(c.push(&[entry("A", 3)]).await[0].is_ok());
    assert_eq!((c.token_refreshes(), sim.view().stats.expired_tokens_refused), (3, 1));

    let wrong = WalmartConnector::new(config(running.url(), "not-the-secret"), fast()).unwrap();
    let err = wrong.fetch_listings().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert!(err.message.contains("token") && err.message.contains("401"), "{err}");
}
