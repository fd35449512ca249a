//! Exactly once: orders with interleaved edits and cancellations, imported
//! three times (the second and third passes shuffled), end in the state of
//! one clean import.

use stocksync_core::Timestamp;
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_store::Store;

use crate::common::*;

const ORDERS: usize = 1_000;

/// Every version of every order, in a plausible arrival order: versions of
/// one order in sequence, orders interleaved.
fn events(ch: stocksync_core::ChannelId, seed: u64) -> Vec<IncomingOrder> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let skus = ["A", "B", "C", "D", "KIT"];
    let mut per_order: Vec<Vec<IncomingOrder>> = Vec::new();
    for i in 0..ORDERS {
        let placed = Timestamp(1_000 * i as i64);
        let mut lines: Vec<(String, String, i64)> = (1..=rng.usize(1..=3))
            .map(|n| (n.to_string(), skus[rng.usize(0..skus.len())].to_owned(), rng.i64(1..=3)))
            .collect();
        let mut versions =
            vec![IncomingOrder::new(ch, &format!("R-{i}"), SourceStatus::Open, placed, Some(placed), &lines).unwrap()];
        let mut t = placed.0;
        for _ in 0..rng.usize(0..=3) {
            t += 7;
            let status = match rng.u8(0..10) {
                0 => SourceStatus::Cancelled,
                1 => SourceStatus::Shipped,
                _ => SourceStatus::Open,
            };
            match rng.u8(0..3) {
                0 => lines[0].2 = rng.i64(1..=4),
                1 if lines.len() > 1 => {
                    lines.pop();
                }
                _ => lines.push(((lines.len() + 10).to_string(), skus[rng.usize(0..skus.len())].to_owned(), 1)),
            }
            versions
                .push(IncomingOrder::new(ch, &format!("R-{i}"), status, placed, Some(Timestamp(t)), &lines).unwrap());
            if status != SourceStatus::Open {
                break;
            }
        }
        per_order.push(versions);
    }
    // Interleave: repeatedly take the next version of a random unfinished order.
    let mut out = Vec::new();
    let mut cursors = vec![0usize; per_order.len()];
    let mut live: Vec<usize> = (0..per_order.len()).collect();
    while !live.is_empty() {
        let k = rng.usize(0..live.len());
        let o = live[k];
        out.push(per_order[o][cursors[o]].clone());
        cursors[o] += 1;
        if cursors[o] == per_order[o].len() {
            live.swap_remove(k);
        }
    }
    out
}

async fn seed(s: &Store) -> stocksync_core::ChannelId {
    fc(s, "EAST", 1).await;
    fc(s, "WEST", 2).await;
    for sku in ["A", "B", "C", "D"] {
        stock_item(s, sku).await;
    }
    let kit = stocksync_core::catalog::ItemDraft {
        sku: "KIT".into(),
        kind: "bundle".into(),
        components: vec![("A".into(), 2), ("B".into(), 1)],
        ..Default::default()
    };
    s.create_item(kit, "test").await.unwrap();
    for (sku, e, w) in [("A", 300, 200), ("B", 150, 150), ("C", 100, 50), ("D", 0, 400)] {
        on_hand(s, sku, "EAST", e).await;
        on_hand(s, sku, "WEST", w).await;
    }
    channel(s, "shop", true).await
}

on_both!(three_imports_shuffled_equal_one_clean_import; flavor = "multi_thread", worker_threads = 2);
async fn three_imports_shuffled_equal_one_clean_import(b: Backend) {
    let clean = TestDb::new(b);
    let ch = seed(&clean.store).await;
    let evs = events(ch, 11);
    for e in &evs {
        clean.store.import_order(e.clone(), "test").await.unwrap();
    }

    let replayed = TestDb::new(b);
    seed(&replayed.store).await;
    for e in &evs {
        replayed.store.import_order(e.clone(), "test").await.unwrap();
    }
    let mut rng = fastrand::Rng::with_seed(99);
    for pass in 0..2 {
        let mut shuffled = evs.clone();
        rng.shuffle(&mut shuffled);
        // Concurrent submission, as several pollers and webhooks would.
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in shuffled.chunks(50) {
            let (store, chunk) = (replayed.store.clone(), chunk.to_vec());
            tasks.spawn(async move {
                for e in chunk {
                    let out = store.import_order(e.clone(), "test").await.unwrap();
                    assert!(!out.changed, "pass {pass}: replaying {} changed the state", e.external_id);
                }
            });
        }
        while let Some(r) = tasks.join_next().await {
            r.unwrap();
        }
    }
    let (a, b) = (clean.dump(), replayed.dump());
    assert!(a.len() > ORDERS, "the dump covers the orders");
    assert_eq!(a, b, "replays changed the state");
    assert_eq!(replayed.store.check().await.unwrap(), Vec::<String>::new());
    let stats = replayed.store.stats().await.unwrap();
    assert!(stats.backordered_units > 0 && stats.allocated_units > 0, "the stream exercises stock-outs: {stats:?}");
}
