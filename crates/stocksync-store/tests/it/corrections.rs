//! Counting corrections take units back from the newest orders that hold them.

use stocksync_core::Timestamp;
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_core::workflow::StockTarget;

use crate::common::*;

fn order(ch: stocksync_core::ChannelId, id: &str, at: i64, sku: &str, q: i64) -> IncomingOrder {
    let lines = [("1".to_owned(), sku.to_owned(), q)];
    IncomingOrder::new(ch, id, SourceStatus::Open, Timestamp(at), Some(Timestamp(at)), &lines).unwrap()
}

on_both!(a_correction_leaves_orders_that_no_longer_hold_units_alone);
async fn a_correction_leaves_orders_that_no_longer_hold_units_alone(b: Backend) {
    let db = TestDb::new(b);
    let s = &db.store;
    fc(s, "EAST", 1).await;
    fc(s, "WEST", 2).await;
    stock_item(s, "A").await;
    stock_item(s, "B").await;
    on_hand(s, "A", "EAST", 5).await;
    on_hand(s, "B", "EAST", 5).await;
    let ch = channel(s, "shop", true).await;
    // OLD holds 3 of A at EAST. NEW, placed later, once held A at EAST too,
    // then the channel changed its line to B: the ledger still links NEW to A.
    s.import_order(order(ch, "OLD", 1, "A", 3), "t").await.unwrap();
    s.import_order(order(ch, "NEW", 5, "A", 2), "t").await.unwrap();
    let mut moved = order(ch, "NEW", 5, "B", 2);
    moved.updated_at = Some(Timestamp(6));
    s.import_order(moved, "t").await.unwrap();
    let before = s.order(2).await.unwrap().unwrap();
    assert_eq!(before.lines[0].sku.as_deref(), Some("B"));

    // A count finds only 1 unit of A at EAST. Newest first: NEW holds none
    // and is left alone; OLD gives 2 back.
    s.set_stock("A", "EAST", StockTarget::OnHand(1), Some("count"), "t").await.unwrap();
    let after = s.order(2).await.unwrap().unwrap();
    assert_eq!(after.updated_at, before.updated_at, "NEW holds no A at EAST and is not touched");
    assert_eq!(after.trace, before.trace);
    let old = s.order(1).await.unwrap().unwrap();
    assert_eq!(old.status, "backordered");
    assert_eq!((old.lines[0].backordered, old.lines[0].allocations[0].quantity), (2, 1));
    assert!(old.trace.iter().any(|t| t.contains("counting correction: released 2 unit(s)")), "{:?}", old.trace);
    assert_eq!(s.check().await.unwrap(), Vec::<String>::new());
}

on_both!(corrections_and_queries_see_indexed_and_unindexed_movements);
/// The ledger is indexed in batches about once a second; corrections and
/// movement queries must see indexed movements and the unindexed tail alike.
async fn corrections_and_queries_see_indexed_and_unindexed_movements(b: Backend) {
    let (clock, now) = fixed_clock(1_795_000_000_000);
    let db = TestDb::with_clock(b, clock);
    let s = &db.store;
    fc(s, "EAST", 1).await;
    stock_item(s, "A").await;
    on_hand(s, "A", "EAST", 10).await;
    let ch = channel(s, "shop", true).await;
    s.import_order(order(ch, "OLD", 1, "A", 4), "t").await.unwrap();
    // A second later the next transaction indexes everything so far.
    now.fetch_add(2_000, std::sync::atomic::Ordering::SeqCst);
    s.import_order(order(ch, "MID", 2, "A", 3), "t").await.unwrap();
    s.import_order(order(ch, "NEW", 3, "A", 2), "t").await.unwrap();
    let indexed = db.count("SELECT COUNT(*) FROM movement_index");
    assert!(indexed >= 2, "the first movements are indexed: {indexed}");

    let filter = stocksync_store::views::MovementFilter { sku: Some("A".into()), ..Default::default() };
    let all = s.movements(filter, 100).await.unwrap();
    let refs: Vec<&str> = all.iter().map(|m| m.reference.as_str()).collect();
    assert_eq!(all.len(), 4, "the stock set and three allocations: {refs:?}");
    let by_order = stocksync_store::views::MovementFilter { order: Some(1), ..Default::default() };
    assert_eq!(s.movements(by_order, 100).await.unwrap().len(), 1, "OLD's allocation, found through the index");

    // Only 4 units are really there: NEW (tail) and MID (tail) give theirs back first, then OLD.
    s.set_stock("A", "EAST", StockTarget::OnHand(4), Some("count"), "t").await.unwrap();
    let status = |id| async move { s.order(id).await.unwrap().unwrap().status };
    assert_eq!(
        (status(1).await, status(2).await, status(3).await),
        ("allocated".into(), "backordered".into(), "backordered".into())
    );
    // And once everything is indexed, the same holds for a second correction.
    now.fetch_add(2_000, std::sync::atomic::Ordering::SeqCst);
    s.set_stock("A", "EAST", StockTarget::OnHand(2), Some("count"), "t").await.unwrap();
    assert_eq!(s.order(1).await.unwrap().unwrap().lines[0].backordered, 2);
    assert_eq!(s.check().await.unwrap(), Vec::<String>::new());
}

on_both!(an_unmapped_listing_read_from_a_channel_can_be_mapped_later);
async fn an_unmapped_listing_read_from_a_channel_can_be_mapped_later(b: Backend) {
    use stocksync_store::NewListing;
    let db = TestDb::new(b);
    let s = &db.store;
    fc(s, "EAST", 1).await;
    stock_item(s, "A").await;
    on_hand(s, "A", "EAST", 5).await;
    let ch = channel(s, "shop", true).await;
    // The channel lists "mystery", which names no item; an order for it waits.
    s.import_listings(ch, vec![("mystery".into(), Some("ext-1".into()), Some(3))], "t").await.unwrap();
    s.import_order(order(ch, "O-1", 1, "mystery", 2), "t").await.unwrap();
    assert_eq!(s.order(1).await.unwrap().unwrap().status, "needs_attention");
    // Mapping it to A is allowed (no conflict), keeps its external id, and the order allocates.
    s.create_listing(
        ch,
        NewListing { channel_sku: "mystery".into(), sku: Some("A".into()), ..Default::default() },
        "t",
    )
    .await
    .unwrap();
    assert_eq!(s.order(1).await.unwrap().unwrap().status, "allocated");
    let l = s.listing(ch.0, "mystery").await.unwrap().unwrap();
    assert_eq!((l.sku.as_deref(), l.external_id.as_deref()), (Some("A"), Some("ext-1")));
    // A mapped listing cannot be created again.
    let again = s
        .create_listing(
            ch,
            NewListing { channel_sku: "mystery".into(), sku: Some("A".into()), ..Default::default() },
            "t",
        )
        .await;
    assert!(matches!(again, Err(stocksync_store::StoreError::Rejected(stocksync_core::Rejection::Conflict(_)))));
    assert_eq!(s.check().await.unwrap(), Vec::<String>::new());
}
