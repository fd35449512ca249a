//! Orders from the Amazon, Etsy, WooCommerce and Walmart simulators reach
//! stocksync by polling, allocate, and both the marketplace and the
//! seller's own store (an `api` receiver) get the new quantity; a
//! cancellation restores it; with import off nothing is deducted. Amazon's
//! windows end 2 min 10 s in the past: its tests move the world's clock
//! (stocksync's and the simulator's alike) instead of waiting. WooCommerce's
//! signed webhooks import through the HTTP router.

use std::time::{Duration, Instant};

use stocksync::http::AppState;
use stocksync_channels::signing::base64_signature;
use stocksync_channels::sim::control::OrderChange;
use tower::ServiceExt;

use crate::markets::{self, MakeMarket, START, world};

async fn order_cancel_and_import_off(make: MakeMarket) {
    let w = world(&[make]).await;
    let (m, kind) = (&w.markets[0], w.markets[0].kind);
    w.drain().await;
    assert_eq!(w.quantities(), [START, START], "{kind:?}: starting quantities pushed");
    let id = m.place(OrderChange::create(&[("A", 3)]));
    let r = w.poll(0).await.unwrap();
    assert_eq!(r.created, 1, "{kind:?}: {r:?}");
    let order = w.store.orders(Default::default(), 1).await.unwrap().remove(0);
    assert_eq!(order.external_id, id, "{kind:?}");
    assert_eq!((order.status.as_str(), order.fulfillment_centers.as_slice()), ("allocated", &["EAST".to_owned()][..]));
    w.drain().await;
    assert_eq!(w.quantities(), [7, 7], "{kind:?}: the sale reached both");
    m.place(OrderChange::modify(&id).cancel());
    assert_eq!(w.poll(0).await.unwrap().changed, 1, "{kind:?}");
    w.drain().await;
    assert_eq!(w.quantities(), [START, START], "{kind:?}: the cancellation restored and re-pushed");
    w.store
        .update_channel(w.ids[0].0, |e| {
            e.settings.import_orders = false;
            Ok(())
        })
        .await
        .unwrap();
    m.place(OrderChange::create(&[("A", 2)]));
    assert_eq!(w.poll(0).await.unwrap(), Default::default(), "{kind:?}: import off reads nothing");
    assert_eq!(w.store.inventory("A").await.unwrap().unwrap().totals.available, START, "{kind:?}: nothing deducted");
    assert_eq!(w.store.check().await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn amazon_orders_reach_every_channel() {
    order_cancel_and_import_off(markets::amazon).await;
}

#[tokio::test]
async fn etsy_orders_reach_every_channel() {
    order_cancel_and_import_off(markets::etsy).await;
}

#[tokio::test]
async fn woocommerce_orders_reach_every_channel() {
    order_cancel_and_import_off(markets::woocommerce).await;
}

#[tokio::test]
async fn walmart_orders_reach_every_channel() {
    order_cancel_and_import_off(markets::walmart).await;
}

/// The window ends 2 min 10 s before now: Amazon's two minutes, plus 10 s
/// for our clock running ahead of Amazon's.
#[tokio::test]
async fn an_amazon_order_is_imported_once_past_the_two_minute_rule() {
    let w = world(&[markets::amazon]).await;
    w.markets[0].place(OrderChange::create(&[("A", 3)]));
    assert_eq!(w.poll_after(0, 0).await.unwrap().created, 0, "placed just now");
    // Amazon itself would now answer with it; stocksync keeps its 10 s margin.
    assert_eq!(w.poll_after(0, 125_000).await.unwrap().created, 0, "2 min 5 s old");
    assert_eq!(w.poll_after(0, 10_000).await.unwrap().created, 1, "2 min 15 s old");
    assert_eq!(w.poll_after(0, 60_000).await.unwrap().created, 0, "once");
    assert_eq!(w.store.inventory("A").await.unwrap().unwrap().totals.available, START - 3);
}

fn webhook(channel: i64, topic: &str, signature: &str, body: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::post(format!("/webhooks/{channel}"))
        .header("content-type", "application/json")
        .header("x-wc-webhook-topic", topic)
        .header("x-wc-webhook-signature", signature)
        .body(axum::body::Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn woocommerce_webhooks_import_through_the_router_and_forged_ones_are_refused() {
    let w = world(&[markets::woocommerce]).await;
    w.drain().await;
    let app = stocksync::http::router(AppState::new(w.store.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/{}", listener.local_addr().unwrap(), w.ids[0].0);
    let server = tokio::spawn({
        let app = app.clone();
        async move { axum::serve(listener, app).await }
    });
    let m = &w.markets[0];
    m.send_webhooks_to(url);
    let wait_for = |want: i64| {
        let store = w.store.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let available = store.inventory("A").await.unwrap().unwrap().totals.available;
                if available == want {
                    return;
                }
                assert!(Instant::now() < deadline, "no webhook brought {want} (available {available})");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let id = m.place(OrderChange::create(&[("A", 4)]));
    wait_for(START - 4).await;
    let order = w.store.orders(Default::default(), 10).await.unwrap();
    assert_eq!((order.len(), order[0].external_id.as_str(), order[0].status.as_str()), (1, id.as_str(), "allocated"));
    w.drain().await;
    assert_eq!(w.quantities(), [6, 6]);
    // A poll afterwards sees the same order and changes nothing.
    let r = w.poll(0).await.unwrap();
    assert_eq!((r.created, r.changed), (0, 0), "{r:?}");
    m.place(OrderChange::modify(&id).cancel());
    wait_for(START).await;
    w.drain().await;
    assert_eq!(w.quantities(), [START, START], "order.updated cancelled it");

    // Signed with another secret, or not at all: 401, nothing imported.
    let body = r#"{"id":999,"status":"processing","line_items":[{"id":1,"sku":"A","quantity":5}]}"#;
    let forged = base64_signature("not-the-secret", body.as_bytes());
    for signature in [forged.as_str(), ""] {
        let res = app.clone().oneshot(webhook(w.ids[0].0, "order.created", signature, body)).await.unwrap();
        assert_eq!(res.status(), 401, "signature {signature:?}");
    }
    assert_eq!(w.store.stats().await.unwrap().orders, 1);
    assert_eq!(w.store.check().await.unwrap(), Vec::<String>::new());
    server.abort();
}
