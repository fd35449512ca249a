//! The store operations behind CSV uploads and exports, the web UI's users,
//! sessions and dashboard, and the push outbox's wake-ups: chapters of the
//! story `resources.rs` tells on both backends, and tests of their own.

use stocksync_core::auth::Role;
use stocksync_core::workflow::StockTarget;
use stocksync_core::{ChannelId, Timestamp};
use stocksync_store::{BulkJob, ItemRow, ListingUpsert, RowAction, Store};

use crate::common::*;
use crate::resources::Story;

/// Applies `rows` of an items upload in one job, as the CSV upload does.
fn upsert_items(s: &mut BulkJob<'_, '_>, rows: &[ItemRow]) -> Vec<String> {
    rows.iter().map(|r| format!("{}: {:?}", r.sku, s.upsert_item(r, "csv"))).collect()
}

fn item_row(sku: &str, kind: &str, title: Option<&str>, components: Option<Vec<(&str, i64)>>) -> ItemRow {
    ItemRow {
        sku: sku.into(),
        kind: kind.into(),
        title: title.map(Into::into),
        components: components.map(|c| c.into_iter().map(|(s, q)| (s.to_owned(), q)).collect()),
        aliases: None,
    }
}

/// Batch lookups, item and listing upserts, the inventory upload's apply
/// pass, a discarded job, and export pages.
pub async fn bulk_story(s: &Store, st: &mut Story, shop: ChannelId) {
    let skus = ["A-1", "KIT", "kit-alias", "nope", "b-3"].map(String::from).to_vec();
    st.saw("sku kinds", s.sku_kinds(skus).await);
    let keys = [("A-1", "EAST"), ("b-3", "NORTH"), ("nope", "EAST"), ("B-2", "WEST")];
    st.saw("levels of", s.levels_of(keys.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()).await);
    let items = vec![
        item_row("C-4", "stock", Some("New"), None),
        item_row("A-1", "stock", None, None),
        item_row("KIT", "bundle", Some("Renamed kit"), None),
        item_row("KIT", "stock", None, None),
        item_row("PACK", "bundle", None, Some(vec![("C-4", 2)])),
        item_row("BAD", "bundle", None, Some(vec![("missing", 1)])),
    ];
    st.saw("upsert items", s.write_or_discard(move |j| Ok((upsert_items(j, &items), true))).await);
    let listing = |cs: &str, sku: Option<&str>, ext: Option<&str>| ListingUpsert {
        channel: shop,
        channel_sku: cs.into(),
        sku: sku.map(Into::into),
        external_id: ext.map(Into::into),
    };
    let listings = [
        listing("C-4", Some("C-4"), Some("ext-c4")),
        listing("new-one", Some("A-1"), None),
        listing("A-1", None, Some("ext-A-1")),
        listing("A-1", None, Some("ext-changed")),
        listing("ghost-listing", Some("missing"), None),
    ];
    let upserted = s
        .write_or_discard(move |j| {
            let out: Vec<String> =
                listings.iter().map(|l| format!("{}: {:?}", l.channel_sku, j.upsert_listing(l, "csv"))).collect();
            Ok((out, true))
        })
        .await;
    st.saw("upsert listings", upserted);
    st.saw("inventory upload", s.write_or_discard(|j| Ok((inventory_upload(j), true))).await);
    st.saw("after upload A-1", s.inventory("A-1").await);
    st.saw("after upload C-4", s.inventory("C-4").await);
    // A dry run (or a file with a bad row): everything is undone, nothing is pushed.
    st.saw("take before discard", s.take_push_queue(100).await);
    let discarded = s
        .write_or_discard(|j| {
            let set = j.set_stock("C-4", "EAST", StockTarget::OnHand(99), Some("upload"), "upload:dry", "csv");
            let item = j.upsert_item(&item_row("DRY", "stock", None, None), "csv");
            Ok((format!("{set:?} {item:?}"), false))
        })
        .await;
    st.saw("discarded", discarded);
    st.saw("after discard C-4", s.levels_of(vec![("C-4".into(), "EAST".into())]).await);
    st.saw("after discard DRY", s.item("DRY").await);
    st.saw("waiting after discard", s.push_queue_waiting().await);
    st.saw("level page 1", s.level_page(None, 3).await);
    let last = s.level_page(None, 3).await.unwrap().pop().map(|r| (r.sku, r.fc_id));
    st.saw("level page 2", s.level_page(last, 100).await);
    st.saw("listing page 1", s.listing_page(None, 2).await);
    st.saw("listing page 2", s.listing_page(Some((shop.0, "A-1".into())), 100).await);
}

/// The inventory upload's apply pass: per row, the level, then
/// `set_stock` unless it already matches; a bundle or unknown SKU is refused.
fn inventory_upload(j: &mut BulkJob<'_, '_>) -> Vec<String> {
    let rows = [
        ("A-1", "EAST", StockTarget::Available(10)),
        ("C-4", "EAST", StockTarget::OnHand(7)),
        ("C-4", "WEST", StockTarget::OnHand(0)),
        ("KIT", "EAST", StockTarget::OnHand(1)),
        ("nope", "EAST", StockTarget::OnHand(1)),
        ("b-3", "NOWHERE", StockTarget::OnHand(1)),
    ];
    let mut out = vec![format!("now {:?}", j.now().0 > 0)];
    for (i, (sku, fc, target)) in rows.into_iter().enumerate() {
        if i == 2 {
            out.push(format!("forget {:?}", j.forget_cached_levels()));
        }
        let level = j.level(sku, fc);
        let set = level.as_ref().ok().map(|_| j.set_stock(sku, fc, target, Some("upload"), "upload:0123", "csv"));
        out.push(format!("{sku} {fc}: {level:?} -> {set:?}"));
    }
    out
}

/// Users, sign-in sessions and the dashboard's queries.
pub async fn ui_story(s: &Store, st: &mut Story) {
    st.saw("create user", s.create_user("alice", Role::Operator, "$argon2id$v=19$x").await);
    st.saw("create admin", s.create_user("root", Role::Admin, "$argon2id$v=19$y").await);
    st.saw("duplicate user", s.create_user("alice", Role::Viewer, "h").await);
    st.saw("bad user name", s.create_user("", Role::Viewer, "h").await);
    st.saw("users", s.users().await);
    st.saw("credentials", s.user_credentials("alice").await);
    st.saw("no credentials", s.user_credentials("bob").await);
    let far = Timestamp(i64::MAX / 2);
    st.saw("session", s.create_session("alice", "cookie-secret-1", far).await);
    st.saw("session 2", s.create_session("root", "cookie-secret-2", far).await);
    let now = Timestamp(1);
    st.saw("session user", s.session_user("cookie-secret-1", now).await);
    st.saw("session expired", s.session_user("cookie-secret-1", Timestamp(far.0 + 1)).await);
    st.saw("unknown session", s.session_user("cookie-secret-9", now).await);
    st.saw("users after sign-in", s.users().await);
    st.saw("set password", s.set_password("alice", "$argon2id$v=19$z").await);
    st.saw("set password unknown", s.set_password("bob", "h").await);
    st.saw("session after password", s.session_user("cookie-secret-1", now).await);
    st.saw("sign out", s.delete_session("cookie-secret-2").await);
    st.saw("session after sign-out", s.session_user("cookie-secret-2", now).await);
    st.saw("order counts", s.order_counts().await);
    st.saw("failed pushes", s.failed_pushes(10).await);
    st.saw("recent pushed", s.recent_pushed(10).await);
    st.saw("last pushes", s.last_pushes().await);
    st.saw("last quantity source", s.last_quantity_source().await.map(|t| t.is_some()));
}

on_both!(the_outbox_ticks_after_commits_that_mark_pushes; flavor = "multi_thread", worker_threads = 2);
async fn the_outbox_ticks_after_commits_that_mark_pushes(b: Backend) {
    let db = TestDb::new(b);
    let s = &db.store;
    let mut outbox = s.outbox_changes();
    fc(s, "EAST", 1).await;
    stock_item(s, "A").await;
    assert!(!outbox.has_changed().unwrap(), "no stock changed yet");
    on_hand(s, "A", "EAST", 5).await;
    assert!(outbox.has_changed().unwrap(), "a stock change wakes the push worker");
    outbox.borrow_and_update();
    // A discarded job's marks are dropped with its writes.
    let (_, kept) = s
        .write_or_discard(|j| {
            j.set_stock("A", "EAST", StockTarget::OnHand(9), None, "", "t")?;
            Ok(((), false))
        })
        .await
        .unwrap();
    assert!(!kept);
    assert!(!outbox.has_changed().unwrap(), "nothing was marked");
    assert_eq!(s.levels_of(vec![("A".into(), "EAST".into())]).await.unwrap()[0].on_hand, 5);
    // A kept one wakes it, and so does a waiting task.
    let waiter = tokio::spawn({
        let mut outbox = outbox.clone();
        async move { tokio::time::timeout(std::time::Duration::from_secs(10), outbox.changed()).await }
    });
    tokio::task::yield_now().await;
    let (_, kept) = s
        .write_or_discard(|j| {
            j.set_stock("A", "EAST", StockTarget::OnHand(9), None, "", "t")?;
            Ok(((), true))
        })
        .await
        .unwrap();
    assert!(kept);
    assert!(outbox.has_changed().unwrap());
    assert!(matches!(waiter.await, Ok(Ok(Ok(())))), "a waiting push worker wakes");
    assert_eq!(s.take_push_queue(10).await.unwrap().queue_rows, 2);
}

on_both!(an_upload_job_sees_its_own_writes_and_undoes_them_all);
async fn an_upload_job_sees_its_own_writes_and_undoes_them_all(b: Backend) {
    let db = TestDb::new(b);
    let s = &db.store;
    fc(s, "EAST", 1).await;
    stock_item(s, "A").await;
    let ch = channel(s, "shop", true).await;
    let order = stocksync_core::order::IncomingOrder::new(
        ch,
        "O-1",
        stocksync_core::order::SourceStatus::Open,
        Timestamp(1),
        None,
        &[("1".into(), "A".into(), 2)],
    )
    .unwrap();
    s.import_order(order, "t").await.unwrap();
    assert_eq!(s.order(1).await.unwrap().unwrap().status, "backordered");
    // Many rows in one job, the level cache emptied on the way: each read
    // sees the job's earlier writes, and the backorder takes its units.
    let (seen, kept) = s
        .write_or_discard(|j| {
            let mut seen = Vec::new();
            for n in 1..=5 {
                j.set_stock("A", "EAST", StockTarget::OnHand(n), Some("upload"), "upload:1", "t")?;
                if n == 3 {
                    j.forget_cached_levels()?;
                }
                seen.push(j.level("A", "EAST")?);
            }
            Ok((seen, false))
        })
        .await
        .unwrap();
    assert!(!kept);
    let on_hand: Vec<i64> = seen.iter().map(|l| l.on_hand).collect();
    assert_eq!(on_hand, [1, 2, 3, 4, 5]);
    assert_eq!(seen[4].committed, 2, "the backordered order took its units inside the job");
    // Undone: the order waits again and no movement is left.
    assert_eq!(s.order(1).await.unwrap().unwrap().status, "backordered");
    assert_eq!(db.count("SELECT COUNT(*) FROM movements"), 0);
    assert_eq!(s.check().await.unwrap(), Vec::<String>::new());
    assert_eq!(RowAction::Created.as_str(), "created");
}
