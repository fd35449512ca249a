//! The WooCommerce connector against the WooCommerce simulator: numbered
//! pages with duplicated and shuffled pages, cancellations and changed
//! lines, per-item batch errors for products and variations, reads paced
//! apart from pushes, a host's 429,
//! bad keys, and signed webhooks (good, bad, lost, late).

use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use stocksync_channels::clock::system_now;
use stocksync_channels::connector::WebhookEvent;
use stocksync_channels::http::RetryPolicy;
use stocksync_channels::model::ErrorKind;
use stocksync_channels::signing::base64_signature;
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::woocommerce::{ItemSeed, WebhookTarget, WooSim};
use stocksync_channels::sim::{self, Faults, Running};
use stocksync_channels::{ChannelConfig, Connector, PushEntry, RemoteOrder};
use stocksync_core::Timestamp;
use stocksync_core::channel::ChannelKind;
use stocksync_core::order::SourceStatus;

pub const KEY: &str = "ck_sim";
pub const SECRET: &str = "cs_sim";
pub const HOOK_SECRET: &str = "wc-hook-secret";

pub fn config(url: String, key: &str) -> ChannelConfig {
    let mut credentials = serde_json::Map::new();
    credentials.insert("consumer_key".into(), key.into());
    credentials.insert("consumer_secret".into(), SECRET.into());
    credentials.insert("webhook_secret".into(), HOOK_SECRET.into());
    ChannelConfig { id: 7, name: "woo".into(), kind: ChannelKind::Woocommerce, base_url: url, credentials }
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

pub async fn start(faults: Faults) -> (WooSim, Running, Connector) {
    let sim = WooSim::new(KEY, SECRET, faults);
    let running = sim::spawn(sim.router(), "127.0.0.1:0").await.unwrap();
    let c = Connector::with_policy(config(running.url(), KEY), fast()).unwrap();
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
async fn pages_through_duplicated_and_shuffled_pages_without_losing_an_order() {
    let faults = Faults { seed: 17, duplicate_pages: 0.5, shuffle_pages: 1.0, ..Faults::default() };
    let (sim, _running, c) = start(faults).await;
    for i in 0..350 {
        sim.apply(OrderChange::create(&[("A-1", 1 + i % 3)])).unwrap();
    }
    let (since, until) = window();
    let orders = c.fetch_orders(since, until).await.unwrap();
    assert_eq!(orders.len(), 350);
    let mut ids: Vec<&str> = orders.iter().map(|o| o.external_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 350, "each order once");
    assert!(orders.windows(2).all(|w| w[0].updated_at <= w[1].updated_at), "sorted by last modification");
    assert!(sim.view().stats.pages_duplicated > 0, "the fault came up");
}

#[tokio::test]
async fn cancellation_completion_and_changed_lines_come_through() {
    let (sim, _running, c) = start(Faults::default()).await;
    let a = sim.apply(OrderChange::create(&[("A-1", 2), ("B-2", 1)])).unwrap();
    let b = sim.apply(OrderChange::create(&[("C-3", 1)])).unwrap();
    let (since, until) = window();
    let first = c.fetch_orders(since, until).await.unwrap();
    let before = find(&first, &a.id).clone();
    assert_eq!(before.status, SourceStatus::Open);
    assert_eq!(
        before.lines.iter().map(|l| (l.channel_sku.as_str(), l.quantity)).collect::<Vec<_>>(),
        [("A-1", 2), ("B-2", 1)]
    );
    sim.apply(OrderChange::modify(&a.id).set_line("A-1", 1)).unwrap();
    sim.apply(OrderChange::modify(&b.id).cancel()).unwrap();
    let second = c.fetch_orders(since, until).await.unwrap();
    let after = find(&second, &a.id);
    // WooCommerce keeps whole seconds: a change within the same second has the same time.
    assert!(after.updated_at >= before.updated_at);
    assert_eq!((after.lines[0].quantity, &after.lines[0].line_id), (1, &before.lines[0].line_id));
    assert_eq!(find(&second, &b.id).status, SourceStatus::Cancelled);
    sim.apply(OrderChange::modify(&a.id).ship()).unwrap();
    assert_eq!(find(&c.fetch_orders(since, until).await.unwrap(), &a.id).status, SourceStatus::Shipped);
    let later = c.fetch_orders(until, Timestamp(until.millis() + 60_000)).await.unwrap();
    assert!(later.is_empty(), "the window filters by last modification");
}

#[tokio::test]
async fn pushes_report_each_item_of_product_and_variation_batches() {
    let (sim, _running, c) = start(Faults::default()).await;
    let a = sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 9, parent: None });
    let red = sim.add_item(ItemSeed { sku: "T-RED".into(), quantity: 9, parent: Some("T".into()) });
    let blue = sim.add_item(ItemSeed { sku: "T-BLUE".into(), quantity: 9, parent: Some("T".into()) });
    let listings = c.fetch_listings().await.unwrap();
    let ids: Vec<(&str, &str)> =
        listings.iter().map(|l| (l.channel_sku.as_str(), l.external_id.as_deref().unwrap_or(""))).collect();
    assert_eq!(ids, [("A-1", a.as_str()), ("T-RED", red.as_str()), ("T-BLUE", blue.as_str())]);
    let parent = red.split('/').next().unwrap();
    let results = c
        .push(&[
            entry("A-1", 4, Some(&a)),
            entry("NOPE", 1, Some("999")),
            entry("T-RED", 0, Some(&red)),
            entry("T-X", 2, Some(&format!("{parent}/998"))),
            entry("T-BLUE", 5, Some(&blue)),
            entry("NO-ID", 1, None),
        ])
        .await;
    assert!(results[0].is_ok() && results[2].is_ok() && results[4].is_ok(), "{results:?}");
    for i in [1, 3, 5] {
        assert_eq!(results[i].as_ref().unwrap_err().kind, ErrorKind::Permanent, "{i}: {results:?}");
    }
    assert!(results[1].as_ref().unwrap_err().message.contains("woocommerce_rest_product_invalid_id"));
    let view = sim.view();
    let q = |sku: &str| view.listings[sku].quantity;
    assert_eq!((q("A-1"), q("T-RED"), q("T-BLUE")), (Some(4), Some(0), Some(5)));
    assert_eq!(view.stats.batch_calls, 2, "one call per endpoint");
    let bodies = sim.batch_requests();
    assert!(bodies.iter().all(|b| b["update"].as_array().unwrap().iter().all(|u| u["manage_stock"] == true)));
}

#[tokio::test]
async fn batches_are_cut_at_100_items() {
    let (sim, _running, c) = start(Faults::default()).await;
    let entries: Vec<PushEntry> = (0..250)
        .map(|i| {
            let id = sim.add_item(ItemSeed { sku: format!("S-{i:03}"), quantity: 1, parent: None });
            entry(&format!("S-{i:03}"), i, Some(&id))
        })
        .collect();
    let results = c.push(&entries).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(sim.view().stats.batch_calls, 3);
    assert_eq!(sim.view().listings["S-249"].quantity, Some(249));
}

#[tokio::test]
async fn reads_take_at_most_two_calls_a_second_so_a_push_never_waits_behind_them() {
    let (sim, _running, c) = start(Faults::default()).await;
    for i in 0..1_000 {
        sim.add_item(ItemSeed { sku: format!("S-{i:04}"), quantity: 1, parent: None });
    }
    let id = sim.add_item(ItemSeed { sku: "HOT".into(), quantity: 1, parent: None });
    let started = Instant::now();
    let reader = c.clone();
    // 11 pages of 100: 2 at once, then one every half second.
    let read = tokio::spawn(async move { reader.fetch_listings().await });
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(c.push(&[entry("HOT", 7, Some(&id))]).await[0].is_ok());
    assert!(!read.is_finished(), "the push went out while the listings were still being read");
    assert_eq!(read.await.unwrap().unwrap().len(), 1_001);
    assert!(started.elapsed() >= Duration::from_millis(4_500), "reads paced at 2/s: {:?}", started.elapsed());
    assert_eq!(sim.view().listings["HOT"].quantity, Some(7));
}

#[tokio::test]
async fn a_hosts_429_is_obeyed_and_a_bad_key_refused() {
    let faults = Faults { throttle: 1.0, retry_after_s: 1, ..Faults::default() };
    let (sim, running, _) = start(faults).await;
    let id = sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 1, parent: None });
    let c = Connector::with_policy(config(running.url(), KEY), RetryPolicy { retries: 1, ..fast() }).unwrap();
    let started = Instant::now();
    let results = c.push(&[entry("A-1", 2, Some(&id))]).await;
    assert!(started.elapsed() >= Duration::from_secs(1), "waited out Retry-After");
    assert_eq!(results[0].as_ref().unwrap_err().kind, ErrorKind::Throttled(Some(Duration::from_secs(1))));

    sim.faults.set(Faults { seed: 4, throttle: 0.4, retry_after_s: 0, error: 0.2, ..Faults::default() });
    let c = Connector::with_policy(config(running.url(), KEY), RetryPolicy { retries: 30, ..fast() }).unwrap();
    for q in 0..5 {
        assert!(c.push(&[entry("A-1", q, Some(&id))]).await[0].is_ok());
    }
    assert_eq!(sim.view().listings["A-1"].quantity, Some(4));

    sim.faults.set(Faults::default());
    let wrong = Connector::with_policy(config(running.url(), "ck_wrong"), fast()).unwrap();
    let (since, until) = window();
    let err = wrong.fetch_orders(since, until).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Permanent);
    assert!(err.message.contains("401") && err.message.contains("woocommerce_rest_authentication_error"), "{err}");
}

use crate::hooks::{receiver, settle};

#[tokio::test]
async fn signed_webhooks_carry_the_same_order_as_polling_and_bad_ones_are_refused() {
    let (sim, _running, c) = start(Faults::default()).await;
    let (r, hooks) = receiver(c.clone()).await;
    let url = format!("{}/hooks", hooks.url());
    sim.set_webhook(Some(WebhookTarget { url: url.clone(), secret: HOOK_SECRET.into() }));
    let a = sim.apply(OrderChange::create(&[("A-1", 2)])).unwrap();
    sim.apply(OrderChange::modify(&a.id).cancel()).unwrap();
    settle(|| r.got.lock().unwrap().len() == 2).await;
    let (since, until) = window();
    let polled = find(&c.fetch_orders(since, until).await.unwrap(), &a.id).clone();
    {
        let got = r.got.lock().unwrap();
        let WebhookEvent::Orders(last) = &got.iter().max_by_key(|(at, _)| *at).unwrap().1 else { panic!() };
        assert_eq!(last[0], polled, "webhook and poll agree");
    }

    sim.set_webhook(Some(WebhookTarget { url: url.clone(), secret: "not-the-secret".into() }));
    sim.apply(OrderChange::create(&[("B-2", 1)])).unwrap();
    settle(|| sim.view().stats.webhooks_refused == 1).await;
    assert_eq!(*r.refused.lock().unwrap(), 1);

    sim.set_webhook(Some(WebhookTarget { url, secret: HOOK_SECRET.into() }));
    sim.faults.set(Faults { lose_webhook: 1.0, ..Faults::default() });
    let lost = sim.apply(OrderChange::create(&[("C-3", 1)])).unwrap();
    assert_eq!(sim.view().stats.webhooks_lost, 1);
    assert!(c.fetch_orders(since, until).await.unwrap().iter().any(|o| o.external_id == lost.id), "polling finds it");
    sim.faults.set(Faults { late_webhook: 1.0, late_webhook_ms: 300, ..Faults::default() });
    let before = r.got.lock().unwrap().len();
    let sent = Instant::now();
    sim.apply(OrderChange::create(&[("D-4", 1)])).unwrap();
    settle(|| r.got.lock().unwrap().len() > before).await;
    assert!(r.got.lock().unwrap()[before].0.duration_since(sent) >= Duration::from_millis(300));
}

#[test]
fn webhook_verification_rejects_tampering_and_ignores_other_topics() {
    let c = Connector::with_policy(config("http://127.0.0.1:9".into(), KEY), fast()).unwrap();
    let body = br#"{"id":727,"status":"processing","date_created_gmt":"2026-01-01T10:00:00",
        "date_modified_gmt":"2026-01-01T10:05:00","line_items":[{"id":1,"product_id":93,"variation_id":0,"quantity":2,"sku":"A-1"}]}"#;
    let headers = |sig: &str, topic: &str| {
        let mut h = HeaderMap::new();
        h.insert("x-wc-webhook-signature", sig.parse().unwrap());
        h.insert("x-wc-webhook-topic", topic.parse().unwrap());
        h
    };
    let good = base64_signature(HOOK_SECRET, body);
    let Ok(WebhookEvent::Orders(orders)) = c.verify_webhook(&headers(&good, "order.created"), body) else { panic!() };
    assert_eq!(orders[0].placed_at, Timestamp::parse_rfc3339("t", "2026-01-01T10:00:00Z").unwrap());
    let mut tampered = body.to_vec();
    tampered[6] = b'8';
    assert_eq!(c.verify_webhook(&headers(&good, "order.created"), &tampered).unwrap_err().kind, ErrorKind::Permanent);
    assert!(c.verify_webhook(&HeaderMap::new(), body).is_err(), "no signature header");
    let bad = base64_signature("other", body);
    assert!(c.verify_webhook(&headers(&bad, "order.updated"), body).is_err());
    let event = c.verify_webhook(&headers(&good, "product.updated"), body).unwrap();
    assert_eq!(event, WebhookEvent::Ignored("product.updated".into()));
}
