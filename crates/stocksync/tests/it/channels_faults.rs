//! Faults on the Amazon, Etsy, WooCommerce and Walmart simulators: while
//! orders arrive over several polls, every fault of the menu is on (429s
//! with and without `Retry-After`, 500s, changes applied but their answer
//! lost, pages served twice or shuffled, slow answers); once they stop,
//! every order is imported exactly once and every channel shows the exact
//! quantity. And one marketplace failing every request holds back neither
//! another marketplace's imports nor its pushes, then catches up.

use std::collections::BTreeSet;
use std::time::Duration;

use stocksync_channels::sim::Faults;
use stocksync_channels::sim::control::OrderChange;
use stocksync_core::workflow::StockTarget;
use stocksync_store::views::OrderFilter;

use crate::markets::{self, MakeMarket, START, World, world};

/// Stock for the fault test: more than its orders take.
const STOCK: i64 = 500;
/// Polls allowed, once the faults stop, until every order is in.
const CATCH_UP_POLLS_MAX: usize = 10;
/// Time allowed, once the faults stop, until every channel shows the stock.
const CONVERGE_WITHIN: Duration = Duration::from_secs(30);

/// The whole menu; `retry_after_s` 0 or 1 (Amazon never sends the header:
/// its 429s make the connector wait out the operation's refill instead).
fn menu(seed: u64, retry_after_s: u64) -> Faults {
    Faults {
        seed,
        throttle: 0.15,
        retry_after_s,
        error: 0.25,
        slow: 0.1,
        slow_ms: 20,
        lose_answer: 0.3,
        duplicate_pages: 0.5,
        shuffle_pages: 1.0,
        ..Faults::default()
    }
}

/// Orders of the market's channel, by external id, with their status.
async fn stored(w: &World, market: usize) -> Vec<(String, String)> {
    let filter = OrderFilter { channel: Some(w.ids[market].0), ..OrderFilter::default() };
    let orders = w.store.orders(filter, 1000).await.unwrap();
    orders.into_iter().map(|o| (o.external_id, o.status)).collect()
}

/// What the polls imported, and what failed at the workers, so far.
#[derive(Debug, Default)]
struct Tally {
    created: usize,
    changed: usize,
    /// Polls that failed and listings whose push did.
    failures: usize,
}

/// Four rounds with every fault on, two polls and two push steps each: a
/// burst of one-unit orders, then orders of 2, 3 and 4 units; round 2
/// cancels round 1's. Returns each order with the units it holds at the
/// end, and the changes polls must report (the cancellation, if its order
/// was imported before it).
async fn faulty_rounds(w: &World, tally: &mut Tally) -> (Vec<(String, i64)>, usize) {
    let m = &w.markets[0];
    let mut placed: Vec<(String, i64)> = Vec::new();
    let mut changes = 0;
    for round in 0..4u32 {
        let faults = menu(u64::from(round) + 1, u64::from(round % 2));
        m.faults.set(faults.clone());
        w.api.faults.set(faults);
        if round == 0 {
            placed.extend((0..m.burst).map(|_| (m.place(OrderChange::create(&[("A", 1)])), 1)));
        } else {
            if round == 2 {
                let (id, units) = &mut placed[m.burst];
                if stored(w, 0).await.iter().any(|(e, _)| e == id) {
                    changes += 1;
                }
                m.place(OrderChange::modify(id).cancel());
                *units = 0;
            }
            placed.push((m.place(OrderChange::create(&[("A", round + 1)])), i64::from(round + 1)));
        }
        for _ in 0..2 {
            match w.poll(0).await {
                Ok(r) => (tally.created, tally.changed) = (tally.created + r.created, tally.changed + r.changed),
                Err(_) => tally.failures += 1,
            }
            tally.failures += w.push.run_once().await.unwrap().failed;
        }
    }
    m.faults.set(Faults::default());
    w.api.faults.set(Faults::default());
    (placed, changes)
}

async fn faults_then_convergence(make: MakeMarket) {
    let w = world(&[make]).await;
    let (m, kind) = (&w.markets[0], w.markets[0].kind);
    w.store.set_stock("A", "EAST", StockTarget::OnHand(STOCK), None, "t").await.unwrap();
    w.drain().await;
    assert_eq!(w.quantities(), [STOCK, STOCK], "{kind:?}");
    let mut t = Tally::default();
    let (placed, changes) = faulty_rounds(&w, &mut t).await;
    assert!(t.failures > 0, "{kind:?}: the faults got past the connector's own retries");
    let mut polls = 0;
    while t.created < placed.len() || t.changed < changes {
        polls += 1;
        assert!(polls <= CATCH_UP_POLLS_MAX, "{kind:?}: {t:?} after the faults, of {} orders", placed.len());
        let r = w.poll(0).await.unwrap();
        (t.created, t.changed) = (t.created + r.created, t.changed + r.changed);
    }
    assert_eq!((t.created, t.changed), (placed.len(), changes), "{kind:?}: each order imported once");
    let r = w.poll(0).await.unwrap();
    assert_eq!((r.created, r.changed), (0, 0), "{kind:?}: nothing left to import");

    let orders = stored(&w, 0).await;
    let ids: BTreeSet<&String> = orders.iter().map(|(id, _)| id).collect();
    assert_eq!(ids, placed.iter().map(|(id, _)| id).collect(), "{kind:?}: the orders placed, each once");
    assert_eq!(orders.len(), placed.len(), "{kind:?}");
    let cancelled: Vec<&String> = orders.iter().filter(|(_, s)| s == "cancelled").map(|(id, _)| id).collect();
    assert_eq!(cancelled, [&placed[m.burst].0], "{kind:?}");
    let sold: i64 = placed.iter().map(|(_, units)| units).sum();
    assert_eq!(sold, i64::try_from(m.burst).unwrap() + 3 + 4, "{kind:?}");
    w.converge(STOCK - sold, CONVERGE_WITHIN).await;
    assert!(w.api.state().stale.is_empty(), "{kind:?}: no older value after a newer one");
    if m.burst > m.page {
        assert!(m.pages_duplicated() > 0, "{kind:?}: the fault came up");
    }
    assert_eq!(w.store.check().await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn amazon_faults_converge() {
    faults_then_convergence(markets::amazon).await;
}

#[tokio::test]
async fn etsy_faults_converge() {
    faults_then_convergence(markets::etsy).await;
}

#[tokio::test]
async fn woocommerce_faults_converge() {
    faults_then_convergence(markets::woocommerce).await;
}

#[tokio::test]
async fn walmart_faults_converge() {
    faults_then_convergence(markets::walmart).await;
}

/// `failing` answers every request with a 500 while an order arrives on
/// `healthy` and one on `failing`.
async fn one_failing(failing: MakeMarket, healthy: MakeMarket) {
    let w = world(&[failing, healthy]).await;
    let kind = w.markets[0].kind;
    w.drain().await;
    assert_eq!(w.quantities(), [START; 3]);
    w.markets[0].faults.set(Faults { error: 1.0, ..Faults::default() });
    w.markets[0].place(OrderChange::create(&[("A", 2)]));
    w.markets[1].place(OrderChange::create(&[("A", 4)]));
    assert!(w.poll(0).await.is_err(), "{kind:?} fails");
    assert_eq!(w.poll(1).await.unwrap().created, 1, "the other marketplace's import went ahead");
    for _ in 0..3 {
        w.push.run_once().await.unwrap();
    }
    assert_eq!(
        w.quantities(),
        [START, START - 4, START - 4],
        "{kind:?} still shows the old quantity, the others the new"
    );
    let status = w.store.sync_status().await.unwrap();
    let down = status.iter().find(|c| c.id == w.ids[0].0).unwrap();
    assert!(down.failed_pushes >= 1 && down.last_import_error.is_some(), "{down:?}");

    w.markets[0].faults.set(Faults::default());
    let mut polls = 0;
    while w.poll(0).await.unwrap().created == 0 {
        polls += 1;
        assert!(polls < CATCH_UP_POLLS_MAX, "{kind:?}: its order was not imported after it recovered");
    }
    w.converge(START - 6, CONVERGE_WITHIN).await;
    let status = w.store.sync_status().await.unwrap();
    let up = status.iter().find(|c| c.id == w.ids[0].0).unwrap();
    assert_eq!((up.failed_pushes, up.pending_pushes), (0, 0), "{up:?}");
    assert_eq!(w.store.check().await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn a_failing_amazon_holds_back_no_one_and_catches_up() {
    one_failing(markets::amazon, markets::etsy).await;
}

#[tokio::test]
async fn a_failing_etsy_holds_back_no_one_and_catches_up() {
    one_failing(markets::etsy, markets::woocommerce).await;
}

#[tokio::test]
async fn a_failing_woocommerce_holds_back_no_one_and_catches_up() {
    one_failing(markets::woocommerce, markets::walmart).await;
}

#[tokio::test]
async fn a_failing_walmart_holds_back_no_one_and_catches_up() {
    one_failing(markets::walmart, markets::amazon).await;
}
