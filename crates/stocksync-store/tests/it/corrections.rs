//! Counting corrections take units back from the newest orders that hold them.

use stocksync_core::Timestamp;
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_core::workflow::StockTarget;

use crate::common::*;

fn order(ch: stocksync_core::ChannelId, id: &str, at: i64, sku: &str, q: i64) -> IncomingOrder {
    let lines = [("1".to_owned(), sku.to_owned(), q)];
    IncomingOrder::new(ch, id, SourceStatus::Open, Timestamp(at), Some(Timestamp(at)), &lines).unwrap()
}

#[tokio::test]
async fn a_correction_leaves_orders_that_no_longer_hold_units_alone() {
    let db = TestDb::new();
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
