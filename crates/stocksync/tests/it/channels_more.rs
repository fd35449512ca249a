//! Orders from the Amazon, Etsy, WooCommerce and Walmart simulators reach
//! stocksync by polling, allocate, and both the marketplace and the
//! seller's own store (an `api` receiver) get the new quantity; a
//! cancellation restores it; with import off nothing is deducted. Amazon's
//! windows end 2 min 10 s in the past: its tests move the world's clock
//! (stocksync's and the simulator's alike) instead of waiting.

use stocksync_channels::sim::control::OrderChange;

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
