//! Several processes on one database: a channel lease has one holder at a
//! time and passes on when it runs out; a claimed push goes to one sender.
//! Two stores on one database stand for two processes. And what a claim
//! takes: zeros, then the oldest and the fresh due pushes, a quarter and
//! three quarters.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use stocksync_core::Timestamp;
use stocksync_store::{CLAIM_TTL_MS, NewListing, PushAnswer, Store};

use crate::common::*;

const START: i64 = 1_795_000_000_000;

on_both!(a_lease_has_one_holder_and_passes_on_when_it_runs_out);
async fn a_lease_has_one_holder_and_passes_on_when_it_runs_out(b: Backend) {
    let (clock, now) = fixed_clock(START);
    let db = TestDb::with_clock(b, clock.clone());
    let (a, other) = (&db.store, Store::open_with_clock(&db.url, clock).unwrap());
    let ttl = Duration::from_secs(5);
    let held = |v: Vec<(i64, Timestamp)>| v.into_iter().map(|(id, _)| id).collect::<Vec<_>>();

    assert_eq!(held(a.hold_leases("A", vec![1, 2], ttl).await.unwrap()), [1, 2]);
    assert_eq!(held(other.hold_leases("B", vec![1, 2, 3], ttl).await.unwrap()), [3], "1 and 2 are A's");
    now.fetch_add(3_000, Ordering::Relaxed);
    let renewed = a.hold_leases("A", vec![1, 2], ttl).await.unwrap();
    assert_eq!(held(renewed.clone()), [1, 2], "A renews its own");
    assert!(renewed.iter().all(|(_, until)| until.0 >= START + 8_000), "renewing moves the expiry: {renewed:?}");
    now.fetch_add(3_000, Ordering::Relaxed);
    assert_eq!(held(other.hold_leases("B", vec![1, 2, 3], ttl).await.unwrap()), [3], "A renewed 3 s ago");
    now.fetch_add(3_000, Ordering::Relaxed);
    assert_eq!(held(other.hold_leases("B", vec![1, 2, 3], ttl).await.unwrap()), [1, 2, 3], "A's ran out: B takes over");
    assert_eq!(held(a.hold_leases("A", vec![1, 2], ttl).await.unwrap()), Vec::<i64>::new(), "A lost both");
    other.release_leases("B").await.unwrap();
    assert_eq!(
        held(a.hold_leases("A", vec![1, 2, 3], ttl).await.unwrap()),
        [1, 2, 3],
        "released leases are free at once"
    );
}

on_both!(each_due_push_is_claimed_by_one_sender; flavor = "multi_thread", worker_threads = 4);
/// Eight senders in two processes claim a channel's 200 due pushes at once
/// and answer them, as push workers do: each push is handed out once.
async fn each_due_push_is_claimed_by_one_sender(b: Backend) {
    let (clock, now) = fixed_clock(START);
    let db = TestDb::with_clock(b, clock.clone());
    let s = &db.store;
    fc(s, "EAST", 1).await;
    let ch = channel(s, "shop", true).await;
    for i in 0..200 {
        let sku = format!("S-{i:03}");
        stock_item(s, &sku).await;
        on_hand(s, &sku, "EAST", 5).await;
        let listing = NewListing { channel_sku: sku.clone(), sku: Some(sku), ..Default::default() };
        s.create_listing(ch, listing, "test").await.unwrap();
    }
    while s.take_push_queue(1000).await.unwrap().queue_rows > 0 {}
    let at = Timestamp(START + 60_000);
    assert_eq!(s.due_pushes(ch.0, at, 1000).await.unwrap().len(), 200);

    let other = Store::open_with_clock(&db.url, clock).unwrap();
    let mut senders = tokio::task::JoinSet::new();
    for (p, store) in [s.clone(), other.clone()].into_iter().enumerate() {
        for t in 0..4 {
            let store = store.clone();
            senders.spawn(async move {
                let holder = format!("process-{p}-sender-{t}");
                let mut got = Vec::new();
                loop {
                    let claimed = store.claim_pushes(ch.0, &holder, at, 7).await.unwrap();
                    if claimed.is_empty() {
                        return got;
                    }
                    assert!(claimed.len() <= 7);
                    let answers = claimed
                        .iter()
                        .map(|d| PushAnswer {
                            listing_id: d.listing_id,
                            version: d.version,
                            quantity: d.quantity,
                            outcome: Ok(()),
                        })
                        .collect();
                    store.record_pushes(answers).await.unwrap();
                    got.extend(claimed.into_iter().map(|d| d.listing_id));
                }
            });
        }
    }
    let mut all = Vec::new();
    while let Some(got) = senders.join_next().await {
        all.extend(got.unwrap());
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!((all.len(), distinct.len()), (200, 200), "every push handed out, none twice");
    assert!(s.due_pushes(ch.0, at, 10).await.unwrap().is_empty(), "all answered");

    // A claim nobody answers holds its listing back until it runs out;
    // its holder may take it again meanwhile, nobody else may.
    s.adjust_stock("S-000", "EAST", -1, None, "test").await.unwrap();
    s.adjust_stock("S-001", "EAST", -2, None, "test").await.unwrap();
    while s.take_push_queue(1000).await.unwrap().queue_rows > 0 {}
    let mine = s.claim_pushes(ch.0, "A", at, 1).await.unwrap();
    assert_eq!(mine.len(), 1);
    let theirs = other.claim_pushes(ch.0, "B", at, 10).await.unwrap();
    assert_eq!(theirs.len(), 1, "B gets only the other listing");
    assert_ne!(theirs[0].listing_id, mine[0].listing_id);
    assert_eq!(s.claim_pushes(ch.0, "A", at, 10).await.unwrap(), mine, "A's claim is A's");
    assert!(other.claim_pushes(ch.0, "C", Timestamp(at.0 + CLAIM_TTL_MS - 1), 10).await.unwrap().is_empty());
    now.fetch_add(CLAIM_TTL_MS, Ordering::Relaxed);
    let retaken = other.claim_pushes(ch.0, "C", Timestamp(at.0 + CLAIM_TTL_MS), 10).await.unwrap();
    assert_eq!(retaken.len(), 2, "both claims ran out: {retaken:?}");
    let quantities: BTreeSet<i64> = retaken.iter().map(|d| d.quantity).collect();
    assert_eq!(quantities, BTreeSet::from([3, 4]));
    assert_eq!(s.check().await.unwrap(), Vec::<String>::new());
}

on_both!(a_claim_takes_a_quarter_from_the_backlog_and_the_rest_fresh);
/// A backlog of 20 due pushes, then three fresh changes: a claim of 4 sends
/// the oldest and the 3 fresh, so fresh changes do not wait for the
/// backlog to drain; with no fresh change left, the rest of a claim goes
/// to the backlog, oldest first; a pending zero goes before either.
async fn a_claim_takes_a_quarter_from_the_backlog_and_the_rest_fresh(b: Backend) {
    let (clock, now) = fixed_clock(START);
    let db = TestDb::with_clock(b, clock);
    let s = &db.store;
    fc(s, "EAST", 1).await;
    let ch = channel(s, "shop", true).await;
    let listed = |sku: String| async move {
        stock_item(s, &sku).await;
        on_hand(s, &sku, "EAST", 5).await;
        let listing = NewListing { channel_sku: sku.clone(), sku: Some(sku), ..Default::default() };
        s.create_listing(ch, listing, "test").await.unwrap();
        while s.take_push_queue(1000).await.unwrap().queue_rows > 0 {}
    };
    for i in 0..20 {
        listed(format!("S-{i:03}")).await;
        now.fetch_add(1_000, Ordering::Relaxed);
    }
    now.fetch_add(60_000, Ordering::Relaxed);
    for fresh in ["FRESH-1", "FRESH-2", "FRESH-3"] {
        listed(fresh.into()).await;
        now.fetch_add(1_000, Ordering::Relaxed);
    }
    let at = Timestamp(now.load(Ordering::Relaxed));
    let skus = |claimed: Vec<stocksync_store::DuePush>| -> Vec<String> {
        claimed.into_iter().map(|d| d.channel_sku).collect()
    };
    let first = skus(s.claim_pushes(ch.0, "A", at, 4).await.unwrap());
    assert_eq!(first, ["S-000", "FRESH-1", "FRESH-2", "FRESH-3"], "the oldest, then the fresh in their order");
    let next = skus(s.claim_pushes(ch.0, "B", at, 3).await.unwrap());
    assert_eq!(next, ["S-001", "S-002", "S-003"], "nothing fresh left: all from the backlog");

    s.adjust_stock("S-010", "EAST", -5, None, "test").await.unwrap();
    while s.take_push_queue(1000).await.unwrap().queue_rows > 0 {}
    let zero = s.claim_pushes(ch.0, "C", Timestamp(now.load(Ordering::Relaxed)), 2).await.unwrap();
    assert_eq!((zero[0].channel_sku.as_str(), zero[0].quantity), ("S-010", 0), "zeros before anything");
    assert_eq!(skus(zero), ["S-010", "S-004"], "a full batch: the zero, then the oldest not yet claimed");
}

on_both!(an_order_polled_late_queues_by_its_own_time_not_its_import);
/// Pushes are ordered by when a quantity went stale: an order's changes by
/// the channel's time of that order version (capped at now), anything else
/// by when it was written; push latency still counts from the write. An order polled 115 s late lands amid the
/// backlog, not among the fresh changes.
async fn an_order_polled_late_queues_by_its_own_time_not_its_import(b: Backend) {
    use stocksync_core::order::{IncomingOrder, SourceStatus};
    let (clock, now) = fixed_clock(START);
    let db = TestDb::with_clock(b, clock);
    let s = &db.store;
    // Claims are made later, when every change is due.
    let claim_at = Timestamp(START + 300_000);
    fc(s, "EAST", 1).await;
    let shop = channel(s, "shop", true).await;
    let market = channel(s, "market", true).await;
    for sku in ["S-000", "S-001", "S-002", "LATE", "FRESH", "AHEAD"] {
        stock_item(s, sku).await;
        on_hand(s, sku, "EAST", 5).await;
        let listing = NewListing { channel_sku: sku.into(), sku: Some(sku.into()), ..Default::default() };
        s.create_listing(shop, listing, "test").await.unwrap();
    }
    while s.take_push_queue(1000).await.unwrap().queue_rows > 0 {}
    let answer = |d: &stocksync_store::DuePush, outcome| PushAnswer {
        listing_id: d.listing_id,
        version: d.version,
        quantity: d.quantity,
        outcome,
    };
    let shown = s.claim_pushes(shop.0, "setup", claim_at, 10).await.unwrap();
    s.record_pushes(shown.iter().map(|d| answer(d, Ok(()))).collect()).await.unwrap();
    for (i, sku) in [(1, "S-000"), (2, "S-001"), (3, "S-002")] {
        now.store(START + i * 10_000, Ordering::Relaxed);
        s.adjust_stock(sku, "EAST", -1, None, "test").await.unwrap();
    }
    now.store(START + 130_000, Ordering::Relaxed);
    let order = |id: &str, sku: &str, placed: i64, updated: Option<i64>| {
        let lines = [("1".to_owned(), sku.to_owned(), 1)];
        IncomingOrder::new(market, id, SourceStatus::Open, Timestamp(placed), updated.map(Timestamp), &lines).unwrap()
    };
    let orders = vec![
        order("O-LATE", "LATE", START + 1_000, Some(START + 15_000)),
        order("O-FRESH", "FRESH", START + 129_000, None),
        order("O-AHEAD", "AHEAD", START + 190_000, None),
    ];
    s.import_orders(market, orders, None, "test").await.unwrap();
    while s.take_push_queue(1000).await.unwrap().queue_rows > 0 {}

    let claimed = s.claim_pushes(shop.0, "A", claim_at, 10).await.unwrap();
    let since: Vec<(&str, i64)> = claimed.iter().map(|d| (d.channel_sku.as_str(), d.stale_since.0 - START)).collect();
    assert_eq!(
        since,
        [
            ("S-000", 10_000),
            ("LATE", 15_000),
            ("S-001", 20_000),
            ("S-002", 30_000),
            ("FRESH", 129_000),
            ("AHEAD", 130_000)
        ],
        "the late order's last-modified time, the fresh one's placement, and a clock ahead of ours capped at now"
    );
    let late = claimed.iter().find(|d| d.channel_sku == "LATE").unwrap();
    assert_eq!(late.since, Timestamp(START + 130_000), "push latency still counts from the import");
    let failed = || Err(("refused".to_owned(), Timestamp(START)));
    s.record_pushes(claimed.iter().map(|d| answer(d, failed())).collect()).await.unwrap();
    let two = s.claim_pushes(shop.0, "B", Timestamp(START + 131_000), 2).await.unwrap();
    let skus: Vec<&str> = two.iter().map(|d| d.channel_sku.as_str()).collect();
    assert_eq!(skus, ["S-000", "FRESH"], "a claim of two just after: the oldest, and the oldest fresh change");
}
