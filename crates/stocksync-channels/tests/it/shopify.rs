//! The Shopify connector against the Shopify simulator: cursor paging with
//! overlapping and shuffled pages, long orders, cancellations and removed
//! units, per-entry `userErrors`, THROTTLED, and signed webhooks.

use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use stocksync_channels::clock::system_now;
use stocksync_channels::connector::WebhookEvent;
use stocksync_channels::http::RetryPolicy;
use stocksync_channels::model::ErrorKind;
use stocksync_channels::signing::base64_signature;
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::shopify::{ItemSeed, ShopifySim, WebhookTarget};
use stocksync_channels::sim::{self, Faults, Running};
use stocksync_channels::{ChannelConfig, Connector, PushEntry, RemoteOrder};
use stocksync_core::Timestamp;
use stocksync_core::channel::ChannelKind;
use stocksync_core::order::SourceStatus;

pub const TOKEN: &str = "shpat_sim";
pub const SECRET: &str = "whsec_sim";
pub const LOCATION: u64 = 71_000_001;

pub fn config(url: String) -> ChannelConfig {
    let mut credentials = serde_json::Map::new();
    credentials.insert("access_token".into(), TOKEN.into());
    credentials.insert("webhook_secret".into(), SECRET.into());
    credentials.insert("location_id".into(), LOCATION.to_string().into());
    ChannelConfig { id: 5, name: "shop".into(), kind: ChannelKind::Shopify, base_url: url, credentials }
}

pub fn fast() -> RetryPolicy {
    RetryPolicy { min_delay: Duration::from_millis(1), max_delay: Duration::from_millis(20), ..RetryPolicy::default() }
}

pub async fn start(sim: ShopifySim) -> (ShopifySim, Running, Connector) {
    let running = sim::spawn(sim.router(), "127.0.0.1:0").await.unwrap();
    let c = Connector::with_policy(config(running.url()), fast()).unwrap();
    (sim, running, c)
}

fn window() -> (Timestamp, Timestamp) {
    let now = system_now().millis();
    (Timestamp(now - 3_600_000), Timestamp(now + 3_600_000))
}

fn entry(sku: &str, quantity: i64, external_id: Option<&str>) -> PushEntry {
    PushEntry {
        channel_sku: sku.into(),
        sku: sku.into(),
        external_id: external_id.map(Into::into),
        quantity,
        version: 1,
    }
}

fn find<'a>(orders: &'a [RemoteOrder], id: &str) -> &'a RemoteOrder {
    orders.iter().find(|o| o.external_id == id).unwrap_or_else(|| panic!("order {id} missing"))
}

#[tokio::test]
async fn pages_through_overlapping_and_shuffled_pages_and_long_orders() {
    let faults = Faults { seed: 5, duplicate_pages: 0.7, shuffle_pages: 1.0, ..Faults::default() };
    let (sim, _running, c) = start(ShopifySim::new(TOKEN, LOCATION, faults)).await;
    for i in 0..75 {
        sim.apply(OrderChange::create(&[("A-1", 1 + i % 2)])).unwrap();
    }
    let skus: Vec<String> = (0..100).map(|i| format!("L-{i:03}")).collect();
    let lines: Vec<(&str, u32)> = skus.iter().map(|s| (s.as_str(), 1)).collect();
    let long = sim.apply(OrderChange::create(&lines)).unwrap();
    let (since, until) = window();
    let orders = c.fetch_orders(since, until).await.unwrap();
    assert_eq!(orders.len(), 76, "each order once");
    assert_eq!(find(&orders, &long.id).lines.len(), 100, "lines past the first page are read too");
    let overlapping =
        sim.requests().iter().filter(|r| r["query"].as_str().is_some_and(|q| q.contains("orders("))).count();
    assert!(overlapping >= 4, "four pages of 20");
}

#[tokio::test]
async fn cancellations_removed_units_and_shipments_show_up() {
    let (sim, _running, c) = start(ShopifySim::new(TOKEN, LOCATION, Faults::default())).await;
    let a = sim.apply(OrderChange::create(&[("A-1", 3), ("B-2", 1)])).unwrap();
    let b = sim.apply(OrderChange::create(&[("C-3", 1)])).unwrap();
    let (since, until) = window();
    let before = find(&c.fetch_orders(since, until).await.unwrap(), &a.id).clone();
    assert_eq!(before.status, SourceStatus::Open);
    assert_eq!(before.lines[0].quantity, 3);
    assert!(before.lines[0].line_id.bytes().all(|b| b.is_ascii_digit()), "numeric line ids, as webhooks have");

    sim.apply(OrderChange::modify(&a.id).set_line("A-1", 1)).unwrap();
    sim.apply(OrderChange::modify(&b.id).cancel()).unwrap();
    let after = c.fetch_orders(since, until).await.unwrap();
    let changed = find(&after, &a.id);
    assert_eq!(changed.lines[0].quantity, 1, "currentQuantity: removed units excluded");
    assert_eq!(changed.lines[0].line_id, before.lines[0].line_id);
    assert!(changed.updated_at > before.updated_at);
    assert_eq!(find(&after, &b.id).status, SourceStatus::Cancelled);

    sim.apply(OrderChange::modify(&a.id).ship()).unwrap();
    assert_eq!(find(&c.fetch_orders(since, until).await.unwrap(), &a.id).status, SourceStatus::Shipped);
}

#[tokio::test]
async fn pushes_report_user_errors_per_entry_and_land_the_rest() {
    let (sim, _running, c) = start(ShopifySim::new(TOKEN, LOCATION, Faults::default())).await;
    let a = sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 9 });
    let b = sim.add_item(ItemSeed { sku: "B-2".into(), quantity: 9 });
    let listings = c.fetch_listings().await.unwrap();
    assert_eq!(listings.iter().find(|l| l.channel_sku == "B-2").unwrap().external_id.as_deref(), Some(b.as_str()));
    let b_number = b.rsplit('/').next().unwrap();
    let results = c
        .push(&[
            entry("A-1", 3, Some(&a)),
            entry("NOPE", 1, Some("gid://shopify/InventoryItem/999")),
            entry("B-2", 0, Some(b_number)),
            entry("C-3", 1, None),
        ])
        .await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    let unknown = results[1].as_ref().unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::Permanent);
    assert!(unknown.message.contains("INVALID_INVENTORY_ITEM"), "{unknown}");
    assert_eq!(results[3].as_ref().unwrap_err().kind, ErrorKind::Permanent);
    let view = sim.view();
    assert_eq!((view.listings["A-1"].quantity, view.listings["B-2"].quantity), (3, 0));
}

#[tokio::test]
async fn throttled_answers_are_waited_out_or_reported_with_the_refill_time() {
    // 900 points refilling 200/s: after the first 882-point page (102 spent
    // on 20 one-line orders), the second waits ~0.4 s for its price.
    let sim = ShopifySim::new(TOKEN, LOCATION, Faults::default()).with_bucket(900.0, 200.0);
    let (sim, _running, c) = start(sim).await;
    for _ in 0..30 {
        sim.apply(OrderChange::create(&[("A-1", 1)])).unwrap();
    }
    let (since, until) = window();
    assert_eq!(c.fetch_orders(since, until).await.unwrap().len(), 30);
    assert!(sim.view().stats.throttled >= 1, "the bucket ran dry at least once");

    let sim2 = ShopifySim::new(TOKEN, LOCATION, Faults::default()).with_bucket(900.0, 10.0);
    let skus: Vec<String> = (0..40).map(|i| format!("L-{i}")).collect();
    let lines: Vec<(&str, u32)> = skus.iter().map(|s| (s.as_str(), 1)).collect();
    for _ in 0..20 {
        sim2.apply(OrderChange::create(&lines)).unwrap();
    }
    let running2 = sim::spawn(sim2.router(), "127.0.0.1:0").await.unwrap();
    let impatient = RetryPolicy { max_retry_after: Duration::from_millis(10), ..fast() };
    let c2 = Connector::with_policy(config(running2.url()), impatient).unwrap();
    c2.fetch_orders(since, until).await.unwrap();
    let err = c2.fetch_orders(since, until).await.unwrap_err();
    let ErrorKind::Throttled(Some(wait)) = err.kind else { panic!("{err}") };
    // A full page costs what it was priced at: 882 points, 18 left, 10/s back.
    assert!(wait > Duration::from_secs(80) && wait < Duration::from_secs(90), "(882 - ~18) / 10 s: {wait:?}");
}

#[tokio::test]
async fn a_read_gets_its_price_while_pushes_keep_going() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    // The bucket refills 90 points a second. Pushes cost 10 points and the
    // connector lets up to 10 a second out, so unpaced they would spend
    // every point as it came back and a listing read (a full page of 250
    // variants, 503 points) would never fit.
    let sim = ShopifySim::new(TOKEN, LOCATION, Faults::default()).with_bucket(520.0, 90.0);
    let (sim, _running, c) = start(sim).await;
    let item = sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 9 });
    for i in 1..250 {
        sim.add_item(ItemSeed { sku: format!("V-{i}"), quantity: 1 });
    }
    c.fetch_listings().await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let pusher = tokio::spawn({
        let (c, stop) = (c.clone(), stop.clone());
        async move {
            let mut shown = 0;
            while !stop.load(Ordering::Relaxed) {
                c.push_ready().await;
                shown += usize::from(c.push(&[entry("A-1", 1, Some(&item))]).await[0].is_ok());
            }
            shown
        }
    });
    let listings = c.fetch_listings().await;
    stop.store(true, Ordering::Relaxed);
    let pushed = pusher.await.unwrap();
    assert_eq!(
        listings.map(|l| l.len()).map_err(|e| e.to_string()),
        Ok(250),
        "the read waited for its price and got it"
    );
    assert!(pushed >= 1, "pushes went on while it waited");
    assert!(sim.view().stats.throttled >= 1, "the read was throttled first");
}

#[tokio::test]
async fn a_429_is_obeyed_for_its_retry_after() {
    let faults = Faults { throttle: 1.0, retry_after_s: 1, ..Faults::default() };
    let (_sim, running, _) = start(ShopifySim::new(TOKEN, LOCATION, faults)).await;
    let c = Connector::with_policy(config(running.url()), RetryPolicy { retries: 1, ..fast() }).unwrap();
    let started = Instant::now();
    let err = c.fetch_listings().await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(err.kind, ErrorKind::Throttled(Some(Duration::from_secs(1))));
}

use crate::hooks::{receiver, settle};

#[tokio::test]
async fn signed_webhooks_carry_the_same_order_as_polling() {
    let (sim, _running, c) = start(ShopifySim::new(TOKEN, LOCATION, Faults::default())).await;
    let (r, hooks) = receiver(c.clone()).await;
    sim.set_webhook(Some(WebhookTarget { url: format!("{}/hooks", hooks.url()), secret: SECRET.into() }));
    let a = sim.apply(OrderChange::create(&[("A-1", 2)])).unwrap();
    sim.apply(OrderChange::modify(&a.id).set_line("A-1", 1)).unwrap();
    sim.apply(OrderChange::modify(&a.id).cancel()).unwrap();
    settle(|| r.got.lock().unwrap().len() == 3).await;
    let (since, until) = window();
    let polled = find(&c.fetch_orders(since, until).await.unwrap(), &a.id).clone();
    let got = r.got.lock().unwrap();
    let hooked: Vec<&RemoteOrder> = got
        .iter()
        .filter_map(|(_, e)| match e {
            WebhookEvent::Orders(o) => o.first(),
            WebhookEvent::Ignored(_) => None,
        })
        .collect();
    assert_eq!(hooked.len(), 3);
    let last = hooked.iter().max_by_key(|o| o.updated_at).unwrap();
    assert_eq!(**last, polled, "webhook and poll agree on ids, lines, status and times");
    assert_eq!(*r.refused.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_bad_signature_is_refused_and_lost_or_late_webhooks_are_survivable() {
    let (sim, _running, c) = start(ShopifySim::new(TOKEN, LOCATION, Faults::default())).await;
    let (r, hooks) = receiver(c.clone()).await;
    let url = format!("{}/hooks", hooks.url());
    sim.set_webhook(Some(WebhookTarget { url: url.clone(), secret: "not-the-secret".into() }));
    sim.apply(OrderChange::create(&[("A-1", 1)])).unwrap();
    settle(|| sim.view().stats.webhooks_refused == 1).await;
    assert_eq!((*r.refused.lock().unwrap(), r.got.lock().unwrap().len()), (1, 0));

    sim.set_webhook(Some(WebhookTarget { url, secret: SECRET.into() }));
    sim.faults.set(Faults { lose_webhook: 1.0, ..Faults::default() });
    let lost = sim.apply(OrderChange::create(&[("B-2", 1)])).unwrap();
    assert_eq!(sim.view().stats.webhooks_lost, 1);
    let (since, until) = window();
    assert!(c.fetch_orders(since, until).await.unwrap().iter().any(|o| o.external_id == lost.id), "polling finds it");

    sim.faults.set(Faults { late_webhook: 1.0, late_webhook_ms: 300, ..Faults::default() });
    let sent = Instant::now();
    sim.apply(OrderChange::create(&[("C-3", 1)])).unwrap();
    settle(|| !r.got.lock().unwrap().is_empty()).await;
    let arrived = r.got.lock().unwrap()[0].0;
    assert!(arrived.duration_since(sent) >= Duration::from_millis(300));
}

#[test]
fn webhook_verification_rejects_tampering_and_ignores_other_topics() {
    let c = Connector::with_policy(config("http://127.0.0.1:9".into()), fast()).unwrap();
    let body = br#"{"id":1,"created_at":"2026-01-01T10:00:00-05:00","updated_at":"2026-01-01T10:05:00-05:00",
        "cancelled_at":null,"fulfillment_status":null,"line_items":[{"id":7,"sku":"A-1","quantity":2,"current_quantity":2}]}"#;
    let headers = |sig: &str, topic: &str| {
        let mut h = HeaderMap::new();
        h.insert("x-shopify-hmac-sha256", sig.parse().unwrap());
        h.insert("x-shopify-topic", topic.parse().unwrap());
        h
    };
    let good = base64_signature(SECRET, body);
    let Ok(WebhookEvent::Orders(orders)) = c.verify_webhook(&headers(&good, "orders/create"), body) else { panic!() };
    assert_eq!(orders[0].placed_at, Timestamp::parse_rfc3339("t", "2026-01-01T15:00:00Z").unwrap());
    let mut tampered = body.to_vec();
    tampered[6] = b'2';
    assert_eq!(c.verify_webhook(&headers(&good, "orders/create"), &tampered).unwrap_err().kind, ErrorKind::Permanent);
    assert!(c.verify_webhook(&HeaderMap::new(), body).is_err(), "no signature header");
    let event = c.verify_webhook(&headers(&good, "products/update"), body).unwrap();
    assert_eq!(event, WebhookEvent::Ignored("products/update".into()));
}
