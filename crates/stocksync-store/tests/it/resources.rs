//! One story through every operation behind the API, the workers, CSV
//! uploads and the web UI (FCs, items, channels, listings, orders and their
//! filters, movements, the push outbox, imports, idempotency, bulk lookups
//! and upserts, export pages, users and sessions, the dashboard), told on
//! each backend: both must give the same answers, and the answers must be
//! right.

use std::fmt::Debug;

use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_core::{ChannelId, Timestamp};
use stocksync_store::views::{LevelFilter, MovementFilter, OrderFilter};
use stocksync_store::{ItemPatch, NewListing, PushAnswer, Store};

use crate::common::*;

/// Collects every answer of the story, as text.
#[derive(Default)]
pub struct Story(Vec<String>);

impl Story {
    pub fn saw<T: Debug>(&mut self, what: &str, v: T) {
        self.0.push(format!("{what}: {v:?}"));
    }
}

fn order(ch: ChannelId, id: &str, at: i64, lines: &[(&str, &str, i64)]) -> IncomingOrder {
    let lines: Vec<(String, String, i64)> = lines.iter().map(|(l, s, q)| (l.to_string(), s.to_string(), *q)).collect();
    IncomingOrder::new(ch, id, SourceStatus::Open, Timestamp(at), Some(Timestamp(at)), &lines).unwrap()
}

async fn catalog(s: &Store, st: &mut Story) -> (ChannelId, ChannelId) {
    fc(s, "EAST", 1).await;
    fc(s, "WEST", 2).await;
    s.create_fc(FcSpec::new("NORTH", "North", 3, false).unwrap()).await.unwrap();
    st.saw("update fc", s.update_fc("NORTH", Some("North hub".into()), Some(2), Some(true)).await);
    st.saw("fcs", s.fcs().await.unwrap());
    st.saw("fc", s.fc("WEST").await.unwrap());
    for sku in ["A-1", "B-2", "b-3"] {
        stock_item(s, sku).await;
    }
    let kit = ItemDraft {
        sku: "KIT".into(),
        kind: "bundle".into(),
        components: vec![("A-1".into(), 2), ("B-2".into(), 1)],
        ..Default::default()
    };
    s.create_item(kit, "t").await.unwrap();
    let patch =
        ItemPatch { title: Some("Starter kit".into()), aliases: Some(vec!["kit-alias".into()]), ..Default::default() };
    st.saw("update item", s.update_item("KIT", patch, "t").await);
    st.saw("items", s.items(None, None, None, 10).await.unwrap());
    st.saw("items q=b", s.items(Some("B-".into()), Some("stock".into()), None, 10).await.unwrap());
    st.saw("items after", s.items(None, None, Some("B-2".into()), 2).await.unwrap());
    for (sku, fc, n) in
        [("A-1", "NORTH", 4), ("A-1", "EAST", 6), ("B-2", "EAST", 2), ("B-2", "WEST", 5), ("b-3", "WEST", 1)]
    {
        on_hand(s, sku, fc, n).await;
    }
    let shop = channel(s, "shop", true).await;
    let bay = channel(s, "bay", false).await;
    st.saw(
        "update channel",
        s.update_channel(bay.0, |e| {
            e.settings.push.percent = 50;
            e.settings.fulfillment_centers = Some(vec![stocksync_core::FcCode::parse("WEST").unwrap()]);
            Ok(())
        })
        .await,
    );
    let listing = |cs: &str, sku: Option<&str>| NewListing {
        channel_sku: cs.into(),
        sku: sku.map(Into::into),
        external_id: Some(format!("ext-{cs}")),
        ..Default::default()
    };
    st.saw("listing", s.create_listing(bay, listing("bay-kit", Some("KIT")), "t").await);
    st.saw("listings", s.create_listings(shop, vec![listing("A-1", None), listing("nothing-yet", None)], "t").await);
    (shop, bay)
}

async fn tell(s: &Store) -> Story {
    let mut st = Story::default();
    let (shop, bay) = catalog(s, &mut st).await;
    st.saw("import", s.import_order(order(shop, "O-1", 10, &[("1", "A-1", 3), ("2", "kit-alias", 1)]), "t").await);
    st.saw("import", s.import_order(order(bay, "O-2", 20, &[("1", "bay-kit", 2), ("2", "ghost", 1)]), "t").await);
    st.saw("import", s.import_order(order(shop, "O-3", 30, &[("1", "B-2", 9)]), "t").await);
    let batch = vec![
        order(shop, "O-4", 40, &[("1", "b-3", 1)]),
        order(shop, "O-1", 10, &[("1", "A-1", 3), ("2", "kit-alias", 1)]),
    ];
    st.saw("import batch", s.import_orders(shop, batch, Some("cursor-1".into()), "t").await);
    st.saw("cursor", s.import_cursor(shop).await);
    st.saw("import failed", s.import_failed(bay, "timeout".into()).await);
    st.saw("cancel", s.cancel_order(3, "t").await);
    st.saw("ship", s.ship_order(4, "t").await);
    st.saw("adjust", s.adjust_stock("A-1", "WEST", 5, Some("found"), "t").await);
    st.saw(
        "set many",
        s.set_stock_many(
            vec![("B-2".into(), "EAST".into(), stocksync_core::workflow::StockTarget::Available(1))],
            Some("count".into()),
            "upload:1".into(),
            "t",
        )
        .await,
    );
    st.saw("stats", s.stats().await);
    st.saw("order 1", s.order(1).await);
    st.saw("order 2", s.order(2).await);
    for f in [
        OrderFilter::default(),
        OrderFilter { channel: Some(shop.0), ..Default::default() },
        OrderFilter { status: Some("backordered".into()), ..Default::default() },
        OrderFilter { fc: Some("EAST".into()), ..Default::default() },
        OrderFilter { sku: Some("A-1".into()), ..Default::default() },
        OrderFilter { sku: Some("ghost".into()), ..Default::default() },
        OrderFilter { sku: Some("kit-alias".into()), ..Default::default() },
        OrderFilter { sku: Some("no-such-sku".into()), ..Default::default() },
        OrderFilter { fc: Some("WEST".into()), status: Some("allocated".into()), ..Default::default() },
        OrderFilter { fc: Some("NOWHERE".into()), ..Default::default() },
        OrderFilter { placed_after: Some(Timestamp(15)), placed_before: Some(Timestamp(35)), ..Default::default() },
        OrderFilter { before: Some((Timestamp(30), 3)), ..Default::default() },
    ] {
        let ids: Vec<i64> = s.orders(f.clone(), 10).await.unwrap().iter().map(|o| o.id).collect();
        st.saw(&format!("orders {f:?}"), ids);
    }
    for f in [
        MovementFilter::default(),
        MovementFilter { sku: Some("A-1".into()), ..Default::default() },
        MovementFilter { fc: Some("EAST".into()), after_id: Some(3), ..Default::default() },
        MovementFilter { order: Some(1), ..Default::default() },
    ] {
        let ms: Vec<String> = s
            .movements(f.clone(), 50)
            .await
            .unwrap()
            .iter()
            .map(|m| format!("{} {} {} {} {} {}", m.id, m.sku, m.fc, m.on_hand_delta, m.committed_delta, m.reference))
            .collect();
        st.saw(&format!("movements {f:?}"), ms);
    }
    for f in [
        LevelFilter::default(),
        LevelFilter { fc: Some("WEST".into()), ..Default::default() },
        LevelFilter { sku_prefix: Some("B".into()), ..Default::default() },
        LevelFilter { available_below: Some(1), ..Default::default() },
        LevelFilter { after: Some(("A-1".into(), "NORTH".into())), ..Default::default() },
    ] {
        st.saw(&format!("levels {f:?}"), s.levels(f.clone(), 10).await.unwrap());
    }
    push_story(s, &mut st, shop, bay).await;
    crate::uploads::bulk_story(s, &mut st, shop).await;
    crate::uploads::ui_story(s, &mut st).await;
    st.saw("check after uploads", s.check().await);
    st
}

async fn push_story(s: &Store, st: &mut Story, shop: ChannelId, bay: ChannelId) {
    st.saw("waiting", s.push_queue_waiting().await);
    st.saw("sync status before", s.sync_status().await);
    st.saw("take", s.take_push_queue(100).await);
    st.saw("waiting after", s.push_queue_waiting().await);
    let due = s.due_pushes(shop.0, Timestamp(i64::MAX), 10).await.unwrap();
    st.saw("due", &due);
    let mut answers: Vec<PushAnswer> = due
        .iter()
        .map(|d| PushAnswer { listing_id: d.listing_id, version: d.version, quantity: d.quantity, outcome: Ok(()) })
        .collect();
    if let Some(first) = answers.first_mut() {
        first.outcome = Err(("429".into(), Timestamp(5)));
    }
    st.saw("record", s.record_pushes(answers).await);
    st.saw("due again", s.due_pushes(shop.0, Timestamp(i64::MAX), 10).await);
    st.saw("due bay", s.due_pushes(bay.0, Timestamp(i64::MAX), 10).await);
    st.saw("sync status", s.sync_status().await);
    st.saw("listings", s.listings(shop.0, None, 10).await);
    st.saw("listing", s.listing(bay.0, "bay-kit").await);
    st.saw("inventory kit", s.inventory("KIT").await);
    st.saw("inventory a", s.inventory("A-1").await);
    st.saw("item", s.item("KIT").await);
    st.saw("channels", s.channels().await);
    let configs: Vec<(i64, String)> =
        s.channel_configs().await.unwrap().into_iter().map(|(v, creds)| (v.id, creds)).collect();
    st.saw("configs", configs);
    let imported = vec![
        ("nothing-yet".into(), Some("ext-9".into()), Some(3)),
        ("new-one".into(), None, None),
        ("KIT".into(), Some("ext-kit".into()), Some(4)),
    ];
    st.saw("import listings", s.import_listings(shop, imported, "t").await);
    st.saw("imported listing", s.listing(shop.0, "KIT").await);
    let mapped = NewListing { channel_sku: "nothing-yet".into(), sku: Some("b-3".into()), ..Default::default() };
    st.saw("map unmapped listing", s.create_listing(shop, mapped.clone(), "t").await);
    st.saw("map it again", s.create_listing(shop, mapped, "t").await);
    st.saw("no answer", s.idempotent_response("scope", "key-1").await);
    st.saw("record answer", s.record_idempotent_response("scope", "key-1", "fp", 201, b"{}".to_vec()).await);
    st.saw("answer", s.idempotent_response("scope", "key-1").await);
    st.saw("check", s.check().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_backends_tell_the_same_story() {
    // A fixed clock from now: stored idempotency answers are kept relative to
    // the system clock, and both backends must see the same times.
    let start = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let sqlite = TestDb::with_clock(Backend::Sqlite, fixed_clock(start).0);
    let told = tell(&sqlite.store).await.0;
    // Spot checks that the story itself is right, whatever the backend.
    let find = |what: &str| told.iter().find(|l| l.starts_with(what)).unwrap_or_else(|| panic!("no {what}"));
    assert!(find("check:").ends_with("Ok([])"), "{told:#?}");
    assert!(find("check after uploads:").ends_with("Ok([])"), "{told:#?}");
    assert!(find("imported listing:").contains("last_pushed_quantity: Some(4)"), "{}", find("imported listing:"));
    assert!(find("map unmapped listing:").contains("Ok(Some("), "{}", find("map unmapped listing:"));
    assert!(find("map it again:").contains("Conflict"), "{}", find("map it again:"));
    assert!(find("discarded:").contains(", false))"), "{}", find("discarded:"));
    assert!(find("after discard DRY:").ends_with("Ok(None)"), "{}", find("after discard DRY:"));
    assert!(find("waiting after discard:").ends_with("Ok(false)"), "{}", find("waiting after discard:"));
    assert!(find("session user:").contains("alice"), "{}", find("session user:"));
    assert!(find("session after password:").ends_with("Ok(None)"), "{}", find("session after password:"));
    assert!(find("failed pushes:").contains("429"), "{}", find("failed pushes:"));
    assert!(find("stats:").contains("oversold_units: 0"), "{}", find("stats:"));
    assert!(find("answer:").contains("status: 201"), "{}", find("answer:"));
    assert!(find("cursor:").contains("cursor-1"), "{}", find("cursor:"));
    if std::env::var("STOCKSYNC_TEST_PRINT_STORY").is_ok() {
        eprintln!("{told:#?}");
    }
    if !postgres_ready() {
        return;
    }
    let pg = TestDb::with_clock(Backend::Postgres, fixed_clock(start).0);
    let pg_told = tell(&pg.store).await.0;
    for (a, b) in told.iter().zip(&pg_told) {
        assert_eq!(a, b, "SQLite and PostgreSQL answer differently");
    }
    assert_eq!(told.len(), pg_told.len());
}
