//! Racing orders for the last units: exactly the stock is allocated.

use std::sync::Arc;

use stocksync_core::Timestamp;
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_store::Store;

use crate::common::*;

on_both!(ten_thousand_racing_orders_for_2500_units; flavor = "multi_thread", worker_threads = 4);
async fn ten_thousand_racing_orders_for_2500_units(b: Backend) {
    let db = TestDb::new(b);
    let s = &db.store;
    for (code, p) in [("EAST", 1), ("CENTRAL", 2), ("WEST", 3)] {
        fc(s, code, p).await;
    }
    stock_item(s, "HOT-1").await;
    for (code, n) in [("EAST", 1000), ("CENTRAL", 900), ("WEST", 600)] {
        on_hand(s, "HOT-1", code, n).await;
    }
    let ch = channel(s, "shop", true).await;
    let store = Arc::new(s.clone());
    let mut tasks = tokio::task::JoinSet::new();
    const TASKS: usize = 16;
    for t in 0..TASKS {
        let store = store.clone();
        tasks.spawn(async move {
            for i in (t..10_000).step_by(TASKS) {
                let lines = [("1".to_owned(), "HOT-1".to_owned(), 1)];
                let o =
                    IncomingOrder::new(ch, &format!("O-{i}"), SourceStatus::Open, Timestamp(i as i64), None, &lines)
                        .unwrap();
                store.import_order(o, "test").await.unwrap();
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let stats = s.stats().await.unwrap();
    assert_eq!(stats.orders, 10_000);
    assert_eq!(stats.allocated_units, 2_500);
    assert_eq!(stats.backordered_units, 7_500);
    assert_eq!(stats.oversold_units, 0);
    let inv = s.inventory("HOT-1").await.unwrap().unwrap();
    assert_eq!((inv.totals.on_hand, inv.totals.committed, inv.totals.available), (2_500, 2_500, 0));
    assert_eq!(s.check().await.unwrap(), Vec::<String>::new());

    // Priority: EAST fills before CENTRAL before WEST, whatever the interleaving.
    let east_first = s.order(1).await.unwrap().unwrap();
    assert_eq!(east_first.fulfillment_centers, vec!["EAST"]);
    assert_eq!(east_first.status, "allocated");
}

on_both!(a_cancellation_hands_the_unit_to_the_oldest_backorder; flavor = "multi_thread", worker_threads = 2);
async fn a_cancellation_hands_the_unit_to_the_oldest_backorder(b: Backend) {
    let db = TestDb::new(b);
    let s = &db.store;
    fc(s, "EAST", 1).await;
    stock_item(s, "A").await;
    on_hand(s, "A", "EAST", 1).await;
    let ch = channel(s, "shop", true).await;
    for i in 0..3 {
        let lines = [("1".to_owned(), "A".to_owned(), 1)];
        let o = IncomingOrder::new(ch, &format!("O-{i}"), SourceStatus::Open, Timestamp(i), None, &lines).unwrap();
        s.import_order(o, "test").await.unwrap();
    }
    assert_eq!(s.order(2).await.unwrap().unwrap().status, "backordered");
    s.cancel_order(1, "alice").await.unwrap();
    assert_eq!(s.order(1).await.unwrap().unwrap().status, "cancelled");
    assert_eq!(s.order(2).await.unwrap().unwrap().status, "allocated", "the oldest backorder gets the unit");
    assert_eq!(s.order(3).await.unwrap().unwrap().status, "backordered");
    assert!(s.order(2).await.unwrap().unwrap().trace.iter().any(|t| t.contains("stock arrived")));
    assert_eq!(s.check().await.unwrap(), Vec::<String>::new());
}

on_both!(two_processes_share_one_database_and_never_oversell; flavor = "multi_thread", worker_threads = 4);
/// Two stores on one database stand for two server processes, each with its
/// own writer: both import the same orders at once (as two pollers would).
/// Every order is created once, exactly the stock is allocated, never more.
async fn two_processes_share_one_database_and_never_oversell(b: Backend) {
    let db = TestDb::new(b);
    let s = &db.store;
    for (code, p) in [("EAST", 1), ("WEST", 2)] {
        fc(s, code, p).await;
    }
    stock_item(s, "HOT-1").await;
    on_hand(s, "HOT-1", "EAST", 300).await;
    on_hand(s, "HOT-1", "WEST", 200).await;
    let ch = channel(s, "shop", true).await;
    let other = Store::open(&db.url).unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for (p, store) in [s.clone(), other.clone()].into_iter().enumerate() {
        for t in 0..4usize {
            let store = store.clone();
            tasks.spawn(async move {
                // Each process walks the orders in its own order.
                let mut ids: Vec<usize> = (t..1_000).step_by(4).collect();
                if p == 1 {
                    ids.reverse();
                }
                for i in ids {
                    let lines = [("1".to_owned(), "HOT-1".to_owned(), 1)];
                    let o = IncomingOrder::new(
                        ch,
                        &format!("O-{i}"),
                        SourceStatus::Open,
                        Timestamp(i as i64),
                        None,
                        &lines,
                    )
                    .unwrap();
                    store.import_order(o, "test").await.unwrap();
                }
            });
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    // A stock change through one process is seen by the other's next write.
    other.adjust_stock("HOT-1", "WEST", 10, Some("found"), "test").await.unwrap();
    s.adjust_stock("HOT-1", "WEST", 5, Some("found"), "test").await.unwrap();
    let stats = s.stats().await.unwrap();
    assert_eq!(stats.orders, 1_000, "each order created once");
    assert_eq!((stats.allocated_units, stats.oversold_units), (515, 0));
    let inv = other.inventory("HOT-1").await.unwrap().unwrap();
    assert_eq!((inv.totals.on_hand, inv.totals.committed, inv.totals.available), (515, 515, 0));
    assert_eq!(s.check().await.unwrap(), Vec::<String>::new());
}
