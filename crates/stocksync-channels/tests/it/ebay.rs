//! The eBay connector against the eBay simulator: paging with duplicated and
//! shuffled pages, cancellations, changed lines, per-entry push results,
//! 429 with `Retry-After`, bad tokens, and the daily revision cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use stocksync_channels::clock::{Clock, system_now};
use stocksync_channels::ebay::{EbayConnector, REVISIONS_PER_LISTING_PER_DAY, REVISIONS_RESERVED_FOR_ZERO};
use stocksync_channels::http::RetryPolicy;
use stocksync_channels::model::ErrorKind;
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::ebay::{EbaySim, ItemSeed};
use stocksync_channels::sim::{self, Faults, Running};
use stocksync_channels::{ChannelConfig, Connector, PushEntry};
use stocksync_core::Timestamp;
use stocksync_core::channel::ChannelKind;
use stocksync_core::order::SourceStatus;

pub const TOKEN: &str = "v^1.1#i^1#sim-token";

pub fn config(url: String, token: &str) -> ChannelConfig {
    let mut credentials = serde_json::Map::new();
    credentials.insert("access_token".into(), token.into());
    ChannelConfig { id: 3, name: "ebay".into(), kind: ChannelKind::Ebay, base_url: url, credentials }
}

pub fn fast() -> RetryPolicy {
    RetryPolicy { min_delay: Duration::from_millis(1), max_delay: Duration::from_millis(20), ..RetryPolicy::default() }
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

pub async fn start(faults: Faults) -> (EbaySim, Running) {
    let sim = EbaySim::new(TOKEN, faults);
    let running = sim::spawn(sim.router(), "127.0.0.1:0").await.unwrap();
    (sim, running)
}

fn window() -> (Timestamp, Timestamp) {
    let now = system_now().millis();
    (Timestamp(now - 3_600_000), Timestamp(now + 3_600_000))
}

fn connector(running: &Running) -> Connector {
    Connector::with_policy(config(running.url(), TOKEN), fast()).unwrap()
}

#[tokio::test]
async fn pages_through_duplicated_and_shuffled_pages_without_losing_an_order() {
    let faults = Faults { seed: 11, duplicate_pages: 0.5, shuffle_pages: 1.0, ..Faults::default() };
    let (sim, running) = start(faults).await;
    for i in 0..450 {
        sim.apply(OrderChange::create(&[("A-1", 1 + i % 3)])).unwrap();
    }
    let (since, until) = window();
    let orders = connector(&running).fetch_orders(since, until).await.unwrap();
    assert_eq!(orders.len(), 450);
    let mut ids: Vec<&str> = orders.iter().map(|o| o.external_id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 450, "each order once");
    assert!(orders.windows(2).all(|w| w[0].updated_at <= w[1].updated_at), "sorted by last modification");
    assert!(sim.view().pages_duplicated > 0, "the fault came up");
}

#[tokio::test]
async fn cancellation_shipment_and_changed_lines_come_through_as_newer_versions() {
    let (sim, running) = start(Faults::default()).await;
    let c = connector(&running);
    let a = sim.apply(OrderChange::create(&[("A-1", 2), ("B-2", 1)])).unwrap();
    let b = sim.apply(OrderChange::create(&[("C-3", 1)])).unwrap();
    let (since, until) = window();
    let first = c.fetch_orders(since, until).await.unwrap();
    assert!(first.iter().all(|o| o.status == SourceStatus::Open));
    let before = first.iter().find(|o| o.external_id == a.id).unwrap().clone();
    assert_eq!(
        before.lines.iter().map(|l| (l.channel_sku.as_str(), l.quantity)).collect::<Vec<_>>(),
        [("A-1", 2), ("B-2", 1)]
    );

    sim.apply(OrderChange::modify(&a.id).set_line("A-1", 1)).unwrap();
    sim.apply(OrderChange::modify(&b.id).cancel()).unwrap();
    let second = c.fetch_orders(since, until).await.unwrap();
    let after = second.iter().find(|o| o.external_id == a.id).unwrap();
    assert!(after.updated_at > before.updated_at);
    assert_eq!(after.lines[0].quantity, 1);
    assert_eq!(after.lines[0].line_id, before.lines[0].line_id, "line ids are stable");
    assert_eq!(second.iter().find(|o| o.external_id == b.id).unwrap().status, SourceStatus::Cancelled);

    sim.apply(OrderChange::modify(&a.id).ship()).unwrap();
    let third = c.fetch_orders(since, until).await.unwrap();
    assert_eq!(third.iter().find(|o| o.external_id == a.id).unwrap().status, SourceStatus::Shipped);
    let empty = c.fetch_orders(until, Timestamp(until.millis() + 1000)).await.unwrap();
    assert!(empty.is_empty(), "the window filters by last modification");
    let past = c.fetch_orders(Timestamp(since.millis() - 60_000), since).await.unwrap();
    assert!(past.is_empty(), "a closed window in the past is sent with both ends");
}

#[tokio::test]
async fn pushes_report_each_entry_including_an_unknown_sku_and_offer() {
    let (sim, running) = start(Faults::default()).await;
    sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 9, offer_ids: vec![] });
    sim.add_item(ItemSeed { sku: "B-2".into(), quantity: 9, offer_ids: vec!["5001".into()] });
    let c = connector(&running);
    let results = c
        .push(&[
            entry("A-1", 4, None),
            entry("NOPE", 1, None),
            entry("B-2", 0, Some("5001")),
            entry("B-2x", 1, Some("77")),
        ])
        .await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    let unknown = results[1].as_ref().unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::Permanent);
    assert!(unknown.message.contains("NOPE") && unknown.message.contains("25710"), "{unknown}");
    assert_eq!(results[3].as_ref().unwrap_err().kind, ErrorKind::Permanent);
    let view = sim.view();
    assert_eq!((view.listings["A-1"].quantity, view.listings["B-2"].quantity), (4, 0));
    assert_eq!(view.bulk_calls, 1, "one call for the whole batch");
    let body = &sim.bulk_requests()[0];
    assert_eq!(body["requests"][2]["offers"][0], serde_json::json!({"offerId": "5001", "availableQuantity": 0}));
    assert!(body["requests"][0].get("offers").is_none());

    let listings = c.fetch_listings().await.unwrap();
    let a = listings.iter().find(|l| l.channel_sku == "A-1").unwrap();
    assert_eq!(a.quantity, Some(4));
}

#[tokio::test]
async fn listings_follow_next_links_across_pages() {
    let (sim, running) = start(Faults::default()).await;
    for i in 0..450 {
        sim.add_item(ItemSeed { sku: format!("S-{i:04}"), quantity: i, offer_ids: vec![] });
    }
    let listings = connector(&running).fetch_listings().await.unwrap();
    assert_eq!(listings.len(), 450);
    assert_eq!(listings[449].quantity, Some(449));
}

#[tokio::test]
async fn a_429_is_obeyed_for_its_retry_after_then_reported() {
    let faults = Faults { throttle: 1.0, retry_after_s: 1, ..Faults::default() };
    let (sim, running) = start(faults).await;
    sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 1, offer_ids: vec![] });
    let policy = RetryPolicy { retries: 1, ..fast() };
    let c = Connector::with_policy(config(running.url(), TOKEN), policy).unwrap();
    let started = Instant::now();
    let results = c.push(&[entry("A-1", 2, None)]).await;
    assert!(started.elapsed() >= Duration::from_secs(1), "waited out Retry-After: {:?}", started.elapsed());
    assert_eq!(results[0].as_ref().unwrap_err().kind, ErrorKind::Throttled(Some(Duration::from_secs(1))));
    let (since, until) = window();
    let err = c.fetch_orders(since, until).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Throttled(Some(Duration::from_secs(1))));

    sim.faults.set(Faults { seed: 3, throttle: 0.5, retry_after_s: 0, error: 0.2, ..Faults::default() });
    let c = Connector::with_policy(config(running.url(), TOKEN), RetryPolicy { retries: 30, ..fast() }).unwrap();
    for q in 0..5 {
        let results = c.push(&[entry("A-1", q, None)]).await;
        assert!(results[0].is_ok(), "{results:?}");
    }
    assert_eq!(sim.view().listings["A-1"].quantity, 4);
}

#[tokio::test]
async fn a_wrong_token_is_refused_for_good() {
    let (_sim, running) = start(Faults::default()).await;
    let c = Connector::with_policy(config(running.url(), "stale"), fast()).unwrap();
    let (since, until) = window();
    let err = c.fetch_orders(since, until).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert!(err.message.contains("401") && err.message.contains("1001"), "{err}");
    let results = c.push(&[entry("A-1", 1, None)]).await;
    assert_eq!(results[0].as_ref().unwrap_err().kind, ErrorKind::Permanent);
}

#[tokio::test]
async fn the_daily_revision_cap_refuses_locally_until_midnight_utc() {
    let (sim, running) = start(Faults::default()).await;
    sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 1, offer_ids: vec![] });
    let day_ms = 86_400_000;
    let now = Arc::new(AtomicI64::new(20_000 * day_ms + 23 * 3_600_000));
    let clock_now = now.clone();
    let clock = Clock::from_fn(move || Timestamp(clock_now.load(Ordering::SeqCst)));
    let ebay = EbayConnector::new(config(running.url(), TOKEN), fast()).unwrap().with_clock(clock);
    let c = Connector::Ebay(ebay.clone());

    let nonzero = (REVISIONS_PER_LISTING_PER_DAY - REVISIONS_RESERVED_FOR_ZERO) as usize;
    let batch: Vec<PushEntry> = (0..nonzero).map(|i| entry("A-1", 1 + i as i64, None)).collect();
    let results = c.push(&batch).await;
    assert!(results.iter().all(Result::is_ok), "{:?}", results.iter().find(|r| r.is_err()));
    assert_eq!(ebay.revisions_today("A-1"), nonzero as u32);

    let calls = sim.view().bulk_calls;
    let refused = c.push(&[entry("A-1", 7, None)]).await;
    assert_eq!(refused[0].as_ref().unwrap_err().kind, ErrorKind::Throttled(Some(Duration::from_secs(3600))));
    assert_eq!(sim.view().bulk_calls, calls, "refused locally, nothing sent");

    let zeros: Vec<PushEntry> = (0..REVISIONS_RESERVED_FOR_ZERO).map(|_| entry("A-1", 0, None)).collect();
    assert!(c.push(&zeros).await.iter().all(Result::is_ok), "the reserve lets a listing go to zero");
    assert!(c.push(&[entry("A-1", 0, None)]).await[0].is_err(), "250 is the end, zeros included");
    assert_eq!(ebay.revisions_today("A-1"), REVISIONS_PER_LISTING_PER_DAY);

    now.fetch_add(3_600_000, Ordering::SeqCst);
    assert_eq!(ebay.revisions_today("A-1"), 0, "a new UTC day");
    let calls = sim.view().bulk_calls;
    let _ = c.push(&[entry("A-1", 3, None)]).await;
    assert_eq!(sim.view().bulk_calls, calls + 1, "sent again after midnight");
}
