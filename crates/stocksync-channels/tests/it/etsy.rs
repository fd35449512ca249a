//! The Etsy connector against the Etsy simulator: offset paging with
//! duplicated and shuffled pages, cancellations and lowered quantities,
//! read-modify-write pushes per listing (variations untouched, read-only
//! keys dropped), the per-second and daily budgets, and both credentials.

use std::time::{Duration, Instant};

use stocksync_channels::clock::system_now;
use stocksync_channels::etsy::{DAY_EXHAUSTED_PAUSE, EtsyConnector};
use stocksync_channels::http::RetryPolicy;
use stocksync_channels::model::ErrorKind;
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::etsy::{EtsySim, ItemSeed};
use stocksync_channels::sim::{self, Faults, Running};
use stocksync_channels::{ChannelConfig, Connector, PushEntry, RemoteOrder};
use stocksync_core::Timestamp;
use stocksync_core::channel::ChannelKind;
use stocksync_core::order::SourceStatus;

pub const KEYSTRING: &str = "etsy-sim-key";
pub const SHARED_SECRET: &str = "etsy-sim-secret";
pub const TOKEN: &str = "12345678.etsy-sim-token";
pub const SHOP: u64 = 55_000_001;

pub fn config(url: String, secret: Option<&str>, token: &str) -> ChannelConfig {
    let mut credentials = serde_json::Map::new();
    credentials.insert("keystring".into(), KEYSTRING.into());
    if let Some(s) = secret {
        credentials.insert("shared_secret".into(), s.into());
    }
    credentials.insert("access_token".into(), token.into());
    credentials.insert("shop_id".into(), SHOP.to_string().into());
    ChannelConfig { id: 17, name: "etsy".into(), kind: ChannelKind::Etsy, base_url: url, credentials }
}

pub fn fast() -> RetryPolicy {
    RetryPolicy { min_delay: Duration::from_millis(1), max_delay: Duration::from_millis(20), ..RetryPolicy::default() }
}

pub fn entry(sku: &str, quantity: i64, listing: Option<u64>) -> PushEntry {
    PushEntry {
        channel_sku: sku.into(),
        sku: sku.into(),
        external_id: listing.map(|l| l.to_string()),
        quantity,
        version: 1,
    }
}

pub fn shop(faults: Faults) -> EtsySim {
    EtsySim::new(KEYSTRING, SHARED_SECRET, TOKEN, SHOP, faults)
}

pub async fn start(sim: EtsySim) -> (EtsySim, Running, EtsyConnector) {
    let running = sim::spawn(sim.router(), "127.0.0.1:0").await.unwrap();
    let c = EtsyConnector::new(config(running.url(), Some(SHARED_SECRET), TOKEN), fast()).unwrap();
    (sim, running, c)
}

fn window() -> (Timestamp, Timestamp) {
    let now = system_now().millis();
    (Timestamp(now - 3_600_000), Timestamp(now + 3_600_000))
}

fn find<'a>(orders: &'a [RemoteOrder], id: &str) -> &'a RemoteOrder {
    orders.iter().find(|o| o.external_id == id).unwrap_or_else(|| panic!("order {id} missing"))
}

#[tokio::test]
async fn pages_through_duplicated_and_shuffled_receipt_pages_without_losing_one() {
    let (sim, _running, c) =
        start(shop(Faults { seed: 13, duplicate_pages: 0.5, shuffle_pages: 1.0, ..Faults::default() })).await;
    for i in 0..350 {
        sim.apply(OrderChange::create(&[("A-1", 1 + i % 3)])).unwrap();
    }
    let (since, until) = window();
    let orders = Connector::Etsy(c).fetch_orders(since, until).await.unwrap();
    assert_eq!(orders.len(), 350);
    let mut ids: Vec<&str> = orders.iter().map(|o| o.external_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 350, "each receipt once");
    assert!(sim.view().stats.pages_duplicated > 0, "the fault came up");
}

#[tokio::test]
async fn cancellations_lowered_quantities_and_completion_come_through() {
    let (sim, _running, c) = start(shop(Faults::default())).await;
    let a = sim.apply(OrderChange::create(&[("A-1", 3), ("B-2", 1)])).unwrap();
    let b = sim.apply(OrderChange::create(&[("C-3", 1)])).unwrap();
    let (since, until) = window();
    let before = find(&c.fetch_orders(since, until).await.unwrap(), &a.id).clone();
    assert_eq!((before.status, before.lines[0].quantity), (SourceStatus::Open, 3));
    sim.apply(OrderChange::modify(&a.id).set_line("A-1", 1)).unwrap();
    sim.apply(OrderChange::modify(&b.id).cancel()).unwrap();
    let after = c.fetch_orders(since, until).await.unwrap();
    let changed = find(&after, &a.id);
    assert_eq!((changed.lines[0].quantity, &changed.lines[0].line_id), (1, &before.lines[0].line_id));
    assert_eq!(find(&after, &b.id).status, SourceStatus::Cancelled);
    sim.apply(OrderChange::modify(&a.id).ship()).unwrap();
    assert_eq!(find(&c.fetch_orders(since, until).await.unwrap(), &a.id).status, SourceStatus::Shipped);
}

#[tokio::test]
async fn pushes_rewrite_each_listing_once_and_report_each_entry() {
    let (sim, _running, c) = start(shop(Faults::default())).await;
    let single = sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 9, listing: None });
    let shirt = sim.add_item(ItemSeed { sku: "T-RED".into(), quantity: 9, listing: Some("Tee".into()) });
    sim.add_item(ItemSeed { sku: "T-BLUE".into(), quantity: 7, listing: Some("Tee".into()) });
    sim.add_item(ItemSeed { sku: "T-GREEN".into(), quantity: 2, listing: Some("Tee".into()) });
    let listings = c.fetch_listings().await.unwrap();
    assert_eq!(listings.len(), 4);
    assert!(
        listings.iter().filter(|l| l.channel_sku.starts_with("T-")).all(|l| l.external_id == Some(shirt.to_string()))
    );
    let results = c
        .push(&[
            entry("T-RED", 0, Some(shirt)),
            entry("A-1", 4, Some(single)),
            entry("NOPE", 1, Some(shirt)),
            entry("T-BLUE", 5000, Some(shirt)),
            entry("NO-ID", 1, None),
        ])
        .await;
    assert!(results[0].is_ok() && results[1].is_ok() && results[3].is_ok(), "{results:?}");
    for i in [2, 4] {
        assert_eq!(results[i].as_ref().unwrap_err().kind, ErrorKind::Permanent, "{i}: {results:?}");
    }
    let view = sim.view();
    let q = |sku: &str| view.listings[sku].quantity;
    assert_eq!((q("T-RED"), q("T-BLUE"), q("T-GREEN"), q("A-1")), (0, 999, 2, 4), "capped at 999; GREEN untouched");
    assert_eq!((view.stats.inventory_reads, view.stats.inventory_writes), (2, 2), "one read and write per listing");
    for body in sim.inventory_writes() {
        let text = body.to_string();
        for key in ["product_id", "offering_id", "is_deleted", "scale_name", "currency_code"] {
            assert!(!text.contains(key), "{key} is read-only: {text}");
        }
    }
}

#[tokio::test]
async fn the_per_second_budget_is_kept_and_the_days_last_requests_go_to_zeros() {
    let (sim, running, c) = start(shop(Faults::default())).await;
    for i in 0..20 {
        sim.add_item(ItemSeed { sku: format!("S-{i:02}"), quantity: 1, listing: None });
    }
    let listings = c.fetch_listings().await.unwrap();
    let started = Instant::now();
    let entries: Vec<PushEntry> = listings
        .iter()
        .map(|l| entry(&l.channel_sku, 2, l.external_id.as_deref().and_then(|id| id.parse().ok())))
        .collect();
    assert!(c.push(&entries).await.iter().all(Result::is_ok));
    assert!(started.elapsed() >= Duration::from_millis(3000), "40 calls at 9/s: {:?}", started.elapsed());
    assert_eq!(sim.view().stats.throttled_per_second, 0, "the connector kept under 10/s");

    // 14 a day: the last 10 (ZERO_RESERVE_MIN) are kept for pushes of zero.
    let (sim, running2, c) = start(shop(Faults::default()).with_daily_limit(14, 3_600_000)).await;
    let id = sim.add_item(ItemSeed { sku: "A".into(), quantity: 1, listing: None });
    for q in [2, 3] {
        assert!(c.push(&[entry("A", q, Some(id))]).await[0].is_ok(), "a read and a write");
    }
    let results = c.push(&[entry("A", 4, Some(id))]).await;
    let ErrorKind::Throttled(Some(wait)) = results[0].as_ref().unwrap_err().kind else { panic!("{results:?}") };
    assert!(wait > DAY_EXHAUSTED_PAUSE - Duration::from_secs(5), "10 left, all kept for zeros: {wait:?}");
    let (since, until) = window();
    assert!(c.fetch_orders(since, until).await.is_err(), "polls wait too");
    assert_eq!(sim.view().stats.calls, 4);
    for _ in 0..5 {
        assert!(c.push(&[entry("A", 0, Some(id))]).await[0].is_ok(), "the reserve lets a listing go to zero");
    }
    assert_eq!(sim.view().stats.calls, 14);
    let results = c.push(&[entry("A", 0, Some(id))]).await;
    assert!(matches!(results[0].as_ref().unwrap_err().kind, ErrorKind::Throttled(Some(_))), "{results:?}");
    assert_eq!(sim.view().stats.calls, 14, "the last answer said 0 left: no call was spent after it");
    assert_eq!(sim.view().stats.throttled_per_day, 0);

    // A connector that never saw the count learns it from Etsy's 429.
    let fresh = EtsyConnector::new(config(running2.url(), Some(SHARED_SECRET), TOKEN), fast()).unwrap();
    let err = fresh.fetch_listings().await.unwrap_err();
    let ErrorKind::Throttled(Some(wait)) = err.kind else { panic!("{err}") };
    assert!(wait > Duration::from_secs(3000), "retry-after until the window resets: {wait:?}");
    assert!(fresh.fetch_listings().await.is_err());
    assert_eq!(sim.view().stats.throttled_per_day, 1, "the second try never left the connector");
    drop(running);
}

#[tokio::test]
async fn both_credentials_are_required() {
    let (_sim, running, _) = start(shop(Faults::default())).await;
    let (since, until) = window();
    let no_secret = EtsyConnector::new(config(running.url(), None, TOKEN), fast()).unwrap();
    assert!(no_secret.fetch_orders(since, until).await.unwrap_err().message.contains("shared_secret"));
    let wrong_token = EtsyConnector::new(config(running.url(), Some(SHARED_SECRET), "stale"), fast()).unwrap();
    let err = wrong_token.fetch_orders(since, until).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert!(err.message.contains("401") && err.message.contains("invalid_token"), "{err}");
    let client = crate::client();
    let res = client
        .get(format!("{}/v3/application/shops/{SHOP}/receipts", running.url()))
        .header("x-api-key", KEYSTRING)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403, "a keystring alone is refused since 2026");
}
