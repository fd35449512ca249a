//! What is acknowledged stays; a failing job fails alone; check finds corruption.

use stocksync_core::Timestamp;
use stocksync_core::catalog::ItemDraft;
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_core::workflow::StockTarget;
use stocksync_core::{FieldError, Rejection};
use stocksync_store::{Store, StoreError};

use crate::common::*;

on_both!(acknowledged_writes_survive_a_reopen);
async fn acknowledged_writes_survive_a_reopen(b: Backend) {
    let db = TestDb::new(b);
    fc(&db.store, "EAST", 1).await;
    stock_item(&db.store, "A").await;
    on_hand(&db.store, "A", "EAST", 5).await;
    let ch = channel(&db.store, "shop", true).await;
    let lines = [("1".to_owned(), "A".to_owned(), 2)];
    let o = IncomingOrder::new(ch, "X-1", SourceStatus::Open, Timestamp(1), None, &lines).unwrap();
    db.store.import_order(o, "test").await.unwrap();
    let reopened = Store::open(&db.url).unwrap();
    let inv = reopened.inventory("A").await.unwrap().unwrap();
    assert_eq!((inv.totals.on_hand, inv.totals.committed), (5, 2));
    assert_eq!(reopened.order(1).await.unwrap().unwrap().fulfillment_centers, vec!["EAST"]);
    assert_eq!(Store::migrate(&db.url).unwrap(), Vec::<i64>::new(), "migrations apply once");
}

on_both!(a_rejected_job_does_not_undo_its_batch; flavor = "multi_thread", worker_threads = 2);
async fn a_rejected_job_does_not_undo_its_batch(b: Backend) {
    let db = TestDb::new(b);
    fc(&db.store, "EAST", 1).await;
    // Many writes in flight at once land in the same transactions.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let store = db.store.clone();
        tasks.spawn(async move {
            let sku = if i % 10 == 0 { format!(" bad-{i}") } else { format!("OK-{i}") };
            (i, store.create_item(ItemDraft { sku, kind: "stock".into(), ..Default::default() }, "t").await)
        });
    }
    while let Some(r) = tasks.join_next().await {
        let (i, result) = r.unwrap();
        if i % 10 == 0 {
            assert!(matches!(result, Err(StoreError::Rejected(Rejection::Invalid(_)))), "{i}: {result:?}");
        } else {
            result.unwrap();
        }
    }
    for i in 0..200 {
        let found = db.store.item(&format!("OK-{i}")).await.unwrap();
        assert_eq!(found.is_some(), i % 10 != 0, "item {i}");
    }
}

on_both!(bad_batches_change_nothing_and_name_the_entry);
async fn bad_batches_change_nothing_and_name_the_entry(b: Backend) {
    let db = TestDb::new(b);
    fc(&db.store, "EAST", 1).await;
    stock_item(&db.store, "A").await;
    let drafts = vec![
        ItemDraft { sku: "NEW-1".into(), kind: "stock".into(), ..Default::default() },
        ItemDraft { sku: "A".into(), kind: "stock".into(), ..Default::default() },
        ItemDraft {
            sku: "K".into(),
            kind: "bundle".into(),
            components: vec![("NOPE".into(), 1)],
            ..Default::default()
        },
    ];
    let err = db.store.create_items(drafts, "t").await.unwrap_err();
    let StoreError::Rejected(Rejection::Invalid(errors)) = err else { panic!("{err:?}") };
    assert!(errors.contains(&FieldError::new("[1].sku", "A already exists")), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.field == "[2].components[0].sku" && e.message.contains("unknown item NOPE")),
        "{errors:?}"
    );
    assert!(db.store.item("NEW-1").await.unwrap().is_none(), "all or nothing");

    let rows = vec![
        ("A".to_owned(), "EAST".to_owned(), StockTarget::OnHand(5)),
        ("A".to_owned(), "EAST".to_owned(), StockTarget::OnHand(-1)),
    ];
    let err = db.store.set_stock_many(rows, None, String::new(), "t").await.unwrap_err();
    assert!(err.to_string().contains("[1].on_hand"), "{err}");
    assert_eq!(db.store.inventory("A").await.unwrap().unwrap().totals.on_hand, 0, "nothing applied");
    let err = db.store.set_stock("A", "MOON", StockTarget::OnHand(1), None, "t").await.unwrap_err();
    assert!(err.to_string().contains("no fulfillment center MOON"), "{err}");
    let err = db.store.adjust_stock("A", "EAST", -1, None, "t").await.unwrap_err();
    assert!(err.to_string().contains("delta"), "{err}");
}

on_both!(check_reports_tampering);
async fn check_reports_tampering(b: Backend) {
    let db = TestDb::new(b);
    fc(&db.store, "EAST", 1).await;
    stock_item(&db.store, "A").await;
    on_hand(&db.store, "A", "EAST", 5).await;
    assert_eq!(db.store.check().await.unwrap(), Vec::<String>::new());
    db.execute("UPDATE stock_levels SET on_hand = 7").unwrap();
    let violations = db.store.check().await.unwrap();
    assert!(violations.iter().any(|v| v.starts_with("conservation: A at EAST")), "{violations:?}");
    let err = db.execute("DELETE FROM movements").unwrap_err();
    assert!(err.contains("append-only"), "{err}");
    let err = db.execute("UPDATE stock_levels SET committed = 9").unwrap_err();
    assert!(err.to_lowercase().contains("check"), "the database refuses an oversold level: {err}");
}

on_both!(a_panicking_job_fails_alone_and_the_writer_lives_on);
async fn a_panicking_job_fails_alone_and_the_writer_lives_on(b: Backend) {
    let db = TestDb::new(b);
    let result = db.store.run_panicking_job().await;
    assert!(result.is_err(), "the caller learns its request failed");
    fc(&db.store, "EAST", 1).await;
    assert_eq!(db.store.fcs().await.unwrap().len(), 1, "later writes still commit");
}
