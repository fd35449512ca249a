//! The push worker against the `api` receiver simulator, driven step by
//! step (`run_once`), and `stocksync demo` end to end.

use std::sync::Arc;

use stocksync::workers::channels::Channels;
use stocksync::workers::latency::LatencyBook;
use stocksync::workers::push::PushWorker;
use stocksync_channels::http::RetryPolicy;
use stocksync_channels::sim::{self, Faults, api::ApiSim};
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_core::{ChannelId, Timestamp};
use stocksync_store::{NewChannel, NewListing, PushAnswer, Store};

use crate::common::{Sandbox, TestDb};

const SECRET: &str = "push-test-secret";

struct Setup {
    store: Store,
    sim: ApiSim,
    _running: sim::Running,
    worker: PushWorker,
    channel: ChannelId,
    /// After the store and the worker, which use it.
    db: TestDb,
    _sb: Sandbox,
}

fn quick() -> RetryPolicy {
    RetryPolicy { retries: 0, min_delay: std::time::Duration::from_millis(1), ..RetryPolicy::default() }
}

async fn setup(skus: &[&str]) -> Setup {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "db");
    let store = Store::open(&db.url).unwrap();
    let sim = ApiSim::new(SECRET, Faults::default());
    let running = sim::spawn(sim.router(), "127.0.0.1:0").await.unwrap();
    store.create_fc(FcSpec::new("EAST", "East", 1, true).unwrap()).await.unwrap();
    let channel = store
        .create_channel(NewChannel {
            name: "store".into(),
            kind: ChannelKind::Api,
            base_url: Some(running.url()),
            credentials_json: format!(r#"{{"signing_secret":"{SECRET}"}}"#),
            settings: ChannelSettings::defaults(ChannelKind::Api),
        })
        .await
        .unwrap();
    for sku in skus {
        store
            .create_item(ItemDraft { sku: (*sku).into(), kind: "stock".into(), ..Default::default() }, "t")
            .await
            .unwrap();
        let listing = NewListing { channel_sku: (*sku).into(), ..Default::default() };
        store.create_listing(channel, listing, "t").await.unwrap();
    }
    let worker =
        PushWorker::new(store.clone(), Channels::new(store.clone(), quick()), Arc::new(LatencyBook::default()));
    Setup { store, sim, _running: running, worker, channel, db, _sb: sb }
}

async fn set(store: &Store, sku: &str, n: i64) {
    store.set_stock(sku, "EAST", StockTarget::OnHand(n), Some("count"), "t").await.unwrap();
}

#[tokio::test]
async fn the_latest_value_is_pushed_once_and_the_listing_is_in_sync() {
    let s = setup(&["A"]).await;
    for n in [5, 7, 3, 9] {
        set(&s.store, "A", n).await;
    }
    let out = s.worker.run_once().await.unwrap();
    assert_eq!(out.sent, 1, "ten changes are one push: {out:?}");
    let got = s.sim.state();
    assert_eq!(got.listings["A"].quantity, 9);
    assert_eq!(got.listings["A"].pushes, 1);
    let inv = s.store.inventory("A").await.unwrap().unwrap();
    assert_eq!((inv.listings[0].last_pushed_quantity, inv.listings[0].state), (Some(9), "in_sync"));
    // Nothing changed since: nothing is sent.
    assert_eq!(s.worker.run_once().await.unwrap().sent, 0);
    // A change back to what the channel already shows is skipped too.
    set(&s.store, "A", 2).await;
    set(&s.store, "A", 9).await;
    let out = s.worker.run_once().await.unwrap();
    assert_eq!((out.sent, s.sim.state().listings["A"].pushes), (0, 1), "{out:?}");
}

#[tokio::test]
async fn zeros_go_first() {
    let s = setup(&["A", "B", "C"]).await;
    set(&s.store, "A", 4).await;
    set(&s.store, "B", 0).await;
    set(&s.store, "C", 6).await;
    s.store.take_push_queue(100).await.unwrap();
    let due = s.store.due_pushes(s.channel.0, Timestamp(i64::MAX / 2), 10).await.unwrap();
    let order: Vec<(&str, i64)> = due.iter().map(|d| (d.channel_sku.as_str(), d.quantity)).collect();
    assert_eq!(order[0], ("B", 0), "{order:?}");
}

#[tokio::test]
async fn a_failing_channel_marks_listings_failed_then_converges() {
    let s = setup(&["A"]).await;
    s.sim.faults.set(Faults { error: 1.0, ..Faults::default() });
    set(&s.store, "A", 5).await;
    let out = s.worker.run_once().await.unwrap();
    assert_eq!((out.sent, out.failed), (0, 1));
    let inv = s.store.inventory("A").await.unwrap().unwrap();
    assert_eq!(inv.listings[0].state, "failed");
    let status = s.store.sync_status().await.unwrap();
    assert_eq!((status[0].pending_pushes, status[0].failed_pushes), (1, 1));
    // The channel recovers; after the backoff the value lands.
    s.sim.faults.set(Faults::default());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while s.sim.state().listings.get("A").map(|l| l.quantity) != Some(5) {
        assert!(std::time::Instant::now() < deadline, "did not converge");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        s.worker.run_once().await.unwrap();
    }
    let inv = s.store.inventory("A").await.unwrap().unwrap();
    assert_eq!(inv.listings[0].state, "in_sync");
}

#[tokio::test]
async fn an_older_answer_never_overwrites_a_newer_one() {
    let s = setup(&["A"]).await;
    set(&s.store, "A", 5).await;
    s.store.take_push_queue(100).await.unwrap();
    let v1 = s.store.due_pushes(s.channel.0, Timestamp(i64::MAX / 2), 10).await.unwrap()[0].clone();
    set(&s.store, "A", 8).await;
    s.store.take_push_queue(100).await.unwrap();
    let v2 = s.store.due_pushes(s.channel.0, Timestamp(i64::MAX / 2), 10).await.unwrap()[0].clone();
    assert!(v2.version > v1.version);
    let ok = |d: &stocksync_store::DuePush| PushAnswer {
        listing_id: d.listing_id,
        version: d.version,
        quantity: d.quantity,
        outcome: Ok(()),
    };
    s.store.record_pushes(vec![ok(&v2)]).await.unwrap();
    s.store.record_pushes(vec![ok(&v1)]).await.unwrap();
    let inv = s.store.inventory("A").await.unwrap().unwrap();
    assert_eq!(inv.listings[0].last_pushed_quantity, Some(8), "the late answer for 5 is ignored");
}

#[tokio::test]
async fn marks_survive_a_restart() {
    let Setup { store, sim, _running, worker, db, _sb, .. } = setup(&["A"]).await;
    set(&store, "A", 4).await;
    // The process stops before pushing: nothing in memory survives.
    drop(worker);
    drop(store);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let store = Store::open(&db.url).unwrap();
    let worker = PushWorker::new(store.clone(), Channels::new(store.clone(), quick()), Arc::default());
    assert_eq!(worker.run_once().await.unwrap().sent, 1);
    assert_eq!(sim.state().listings["A"].quantity, 4);
}

#[test]
fn the_demo_runs_converges_and_checks_clean() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "demo.db");
    let args = ["demo", "--duration-s", "3", "--orders-per-s", "30", "--listen", "127.0.0.1:0", "--database-url"];
    let run = sb.run(&[&args[..], &[db.url.as_str()]].concat());
    run.expect_code(0);
    assert!(run.stdout.contains("every listing converged: true"), "{run}");
    assert!(run.stdout.contains("check: clean"), "{run}");
    assert!(run.stdout.contains("oversold 0"), "{run}");
}

#[tokio::test]
async fn webhooks_that_do_not_verify_are_refused() {
    use tower::ServiceExt;
    let s = setup(&["A"]).await;
    let app = stocksync::http::router(stocksync::http::AppState::new(s.store.clone()));
    let post = |path: String| {
        axum::http::Request::post(path)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(r#"{"id": 1}"#))
            .unwrap()
    };
    // An api channel takes orders through the API, so no webhook verifies.
    let res = app.clone().oneshot(post(format!("/webhooks/{}", s.channel.0))).await.unwrap();
    assert_eq!(res.status(), 401);
    let res = app.clone().oneshot(post("/webhooks/999".into())).await.unwrap();
    assert_eq!(res.status(), 404);
    let res = app.oneshot(post("/webhooks/abc".into())).await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(s.store.stats().await.unwrap().orders, 0);
}

#[tokio::test]
async fn metrics_count_imports_allocations_and_pushes() {
    use tower::ServiceExt;
    let s = setup(&["A"]).await;
    set(&s.store, "A", 3).await;
    s.store.create_token("ops", stocksync_core::auth::Role::Operator, "ops-token-0123456789abcdef").await.unwrap();
    let app = stocksync::http::router(stocksync::http::AppState::new(s.store.clone()));
    let order = axum::http::Request::post(format!("/api/v1/channels/{}/orders", s.channel.0))
        .header("content-type", "application/json")
        .header("authorization", "Bearer ops-token-0123456789abcdef")
        .body(axum::body::Body::from(
            r#"{"external_id":"M-1","lines":[{"line_id":"1","channel_sku":"A","quantity":1}]}"#,
        ))
        .unwrap();
    assert_eq!(app.clone().oneshot(order).await.unwrap().status(), 201);
    s.worker.run_once().await.unwrap();
    let res = app.oneshot(axum::http::Request::get("/metrics").body(axum::body::Body::empty()).unwrap()).await.unwrap();
    let body = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body);
    for name in [
        "stocksync_order_imports_total",
        "stocksync_allocations_total",
        "stocksync_pushes_total",
        "stocksync_push_latency_seconds",
        "stocksync_http_requests_total",
    ] {
        assert!(text.contains(name), "{name} missing from /metrics:\n{text}");
    }
}
