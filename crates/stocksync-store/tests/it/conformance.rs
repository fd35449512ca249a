//! The store and the in-memory reference model (`MemBooks`) run the same
//! random operation streams and must end in the same state, with every
//! invariant intact on both.

use std::collections::BTreeSet;

use stocksync_core::catalog::ItemDraft;
use stocksync_core::mem::MemBooks;
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_core::workflow::{self, Ctx, StockTarget};
use stocksync_core::{ChannelId, OrderId, Timestamp};
use stocksync_store::{NewListing, Store};

use crate::common::*;

const STREAMS: u64 = 12;
const OPS_PER_STREAM: usize = 250;

enum Op {
    Import(IncomingOrder),
    Cancel(i64),
    Ship(i64),
    Set(String, String, StockTarget),
    Adjust(String, String, i64),
    NewItem(String),
    Listing(ChannelId, String, String),
}

fn model_state(m: &MemBooks) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (&(item, fc), l) in &m.levels {
        out.insert(format!("level {} {} {} {}", item.0, fc.0, l.on_hand, l.committed));
    }
    for o in m.orders.values() {
        out.insert(format!("order {} {} {}", o.external_id, o.status.as_str(), o.source_status.as_str()));
        for l in &o.lines {
            out.insert(format!(
                "line {} {} {:?} {} {} {}",
                o.external_id,
                l.line_id,
                l.item.map(|i| i.0),
                l.quantity,
                l.backordered,
                l.removed
            ));
            for a in &l.allocs {
                out.insert(format!(
                    "alloc {} {} {} {} {} {}",
                    o.external_id, l.line_id, a.fc.0, a.item.0, a.shipped, a.quantity
                ));
            }
        }
    }
    out
}

fn store_state(db: &TestDb) -> BTreeSet<String> {
    let queries = [
        (
            "SELECT 'level ' || item_id || ' ' || fc_id || ' ' || on_hand || ' ' || committed FROM stock_levels",
            "SELECT 'level ' || item_id || ' ' || fc_id || ' ' || on_hand || ' ' || committed FROM stock_levels",
        ),
        (
            "SELECT 'order ' || external_id || ' ' || status || ' ' || source_status FROM orders",
            "SELECT 'order ' || external_id || ' ' || status || ' ' || source_status FROM orders",
        ),
        (
            "SELECT 'line ' || o.external_id || ' ' || (j.value ->> 'id') || ' '
                    || COALESCE('Some(' || (j.value ->> 'it') || ')', 'None') || ' ' || (j.value ->> 'q') || ' '
                    || (j.value ->> 'bo') || ' ' || CASE WHEN COALESCE(j.value ->> 'rm', 0) THEN 'true' ELSE 'false' END
             FROM orders o, json_each(o.lines) j",
            "SELECT 'line ' || o.external_id || ' ' || (j ->> 'id') || ' '
                    || COALESCE('Some(' || (j ->> 'it') || ')', 'None') || ' ' || (j ->> 'q') || ' '
                    || (j ->> 'bo') || ' ' || CASE WHEN COALESCE((j ->> 'rm')::boolean, FALSE) THEN 'true' ELSE 'false' END
             FROM orders o, jsonb_array_elements(o.lines::jsonb) j",
        ),
        (
            "SELECT 'alloc ' || o.external_id || ' ' || (j.value ->> 'id') || ' ' || (a.value ->> '$[0]') || ' '
                    || (a.value ->> '$[1]') || ' ' || CASE WHEN a.value ->> '$[3]' THEN 'true' ELSE 'false' END || ' '
                    || (a.value ->> '$[2]')
             FROM orders o, json_each(o.lines) j, json_each(j.value, '$.a') a",
            "SELECT 'alloc ' || o.external_id || ' ' || (j ->> 'id') || ' ' || (a ->> 0) || ' '
                    || (a ->> 1) || ' ' || CASE WHEN (a ->> 3)::boolean THEN 'true' ELSE 'false' END || ' '
                    || (a ->> 2)
             FROM orders o, jsonb_array_elements(o.lines::jsonb) j, jsonb_array_elements(COALESCE(j -> 'a', '[]')) a",
        ),
    ];
    queries.iter().flat_map(|(sqlite, postgres)| db.rows(sqlite, postgres)).collect()
}

fn random_op(rng: &mut fastrand::Rng, step: usize, orders: &mut Vec<(IncomingOrder, i64)>, chans: &[ChannelId]) -> Op {
    let skus = ["A", "B", "C", "KIT", "PAIR", "alias-a", "LATER-1", "LATER-2", "ghost"];
    let fcs = ["EAST", "WEST", "NORTH"];
    let lines = |rng: &mut fastrand::Rng| -> Vec<(String, String, i64)> {
        (1..=rng.usize(1..=3))
            .map(|n| (n.to_string(), skus[rng.usize(0..skus.len())].to_owned(), rng.i64(1..=4)))
            .collect()
    };
    match rng.u8(0..100) {
        0..=39 => {
            let ch = chans[rng.usize(0..chans.len())];
            let o = IncomingOrder::new(
                ch,
                &format!("O-{step}"),
                SourceStatus::Open,
                Timestamp(step as i64),
                Some(Timestamp(step as i64)),
                &lines(rng),
            )
            .unwrap();
            orders.push((o.clone(), step as i64));
            Op::Import(o)
        }
        40..=59 if !orders.is_empty() => {
            let k = rng.usize(0..orders.len());
            let (prev, _) = &orders[k];
            let status = [SourceStatus::Open, SourceStatus::Open, SourceStatus::Cancelled, SourceStatus::Shipped]
                [rng.usize(0..4)];
            let mut ls: Vec<(String, String, i64)> =
                prev.lines.iter().map(|l| (l.line_id.clone(), l.channel_sku.clone(), i64::from(l.quantity))).collect();
            match rng.u8(0..3) {
                0 => ls[0].2 = rng.i64(1..=5),
                1 if ls.len() > 1 => {
                    ls.remove(0);
                }
                _ => ls.push((format!("x{step}"), skus[rng.usize(0..skus.len())].to_owned(), rng.i64(1..=2))),
            }
            let o = IncomingOrder::new(
                prev.channel,
                &prev.external_id,
                status,
                prev.placed_at,
                Some(Timestamp(step as i64)),
                &ls,
            )
            .unwrap();
            orders[k].0 = o.clone();
            Op::Import(o)
        }
        60..=64 if !orders.is_empty() => Op::Cancel(rng.i64(1..=orders.len() as i64)),
        65..=67 if !orders.is_empty() => Op::Ship(rng.i64(1..=orders.len() as i64)),
        68..=82 => {
            let target =
                if rng.bool() { StockTarget::OnHand(rng.i64(0..=8)) } else { StockTarget::Available(rng.i64(0..=5)) };
            Op::Set(["A", "B", "C"][rng.usize(0..3)].into(), fcs[rng.usize(0..3)].into(), target)
        }
        83..=92 => Op::Adjust(["A", "B", "C"][rng.usize(0..3)].into(), fcs[rng.usize(0..3)].into(), rng.i64(-3..=4)),
        93..=95 => Op::NewItem(["LATER-1", "LATER-2"][rng.usize(0..2)].into()),
        _ => Op::Listing(chans[rng.usize(0..chans.len())], "ghost".into(), ["A", "B", "KIT"][rng.usize(0..3)].into()),
    }
}

async fn seed_both(store: &Store, m: &mut MemBooks) -> Vec<ChannelId> {
    for (code, p) in [("EAST", 2), ("WEST", 1), ("NORTH", 3)] {
        fc(store, code, p).await;
        m.add_fc(code, p, true);
    }
    let drafts = [
        ItemDraft { sku: "A".into(), kind: "stock".into(), aliases: vec!["alias-a".into()], ..Default::default() },
        ItemDraft { sku: "B".into(), kind: "stock".into(), ..Default::default() },
        ItemDraft { sku: "C".into(), kind: "stock".into(), ..Default::default() },
        ItemDraft {
            sku: "KIT".into(),
            kind: "bundle".into(),
            components: vec![("A".into(), 2), ("C".into(), 1)],
            ..Default::default()
        },
        ItemDraft {
            sku: "PAIR".into(),
            kind: "bundle".into(),
            components: vec![("B".into(), 2)],
            ..Default::default()
        },
    ];
    for d in drafts {
        m.add_item(&d).unwrap();
        store.create_item(d, "t").await.unwrap();
    }
    let a = channel(store, "split", true).await;
    let b = channel(store, "nosplit", false).await;
    m.add_channel("split", true, None);
    m.add_channel("nosplit", false, None);
    vec![a, b]
}

on_both!(store_matches_the_reference_model; flavor = "multi_thread", worker_threads = 2);
async fn store_matches_the_reference_model(b: Backend) {
    for seed in 0..STREAMS {
        let db = TestDb::new(b);
        let mut m = MemBooks::default();
        let chans = seed_both(&db.store, &mut m).await;
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut orders = Vec::new();
        let cx = Ctx { at: Timestamp(0), actor: "t" };
        for step in 0..OPS_PER_STREAM {
            let op = random_op(&mut rng, step, &mut orders, &chans);
            let (got, want) = match op {
                Op::Import(o) => (
                    db.store.import_order(o.clone(), "t").await.map(drop).map_err(|e| e.to_string()),
                    workflow::import_order(&mut m, &o, &cx).map(drop).map_err(|e| e.to_string()),
                ),
                Op::Cancel(id) => (
                    db.store.cancel_order(id, "t").await.map_err(|e| e.to_string()),
                    workflow::cancel_order(&mut m, OrderId(id), &cx).map(drop).map_err(|e| e.to_string()),
                ),
                Op::Ship(id) => (
                    db.store.ship_order(id, "t").await.map_err(|e| e.to_string()),
                    workflow::ship_order(&mut m, OrderId(id), &cx).map(drop).map_err(|e| e.to_string()),
                ),
                Op::Set(sku, fc, t) => (
                    db.store.set_stock(&sku, &fc, t, None, "t").await.map(drop).map_err(|e| e.to_string()),
                    workflow::set_stock(&mut m, &sku, &fc, t, None, "", &cx).map(drop).map_err(|e| e.to_string()),
                ),
                Op::Adjust(sku, fc, d) => (
                    db.store.adjust_stock(&sku, &fc, d, None, "t").await.map(drop).map_err(|e| e.to_string()),
                    workflow::adjust_stock(&mut m, &sku, &fc, d, None, "", &cx).map(drop).map_err(|e| e.to_string()),
                ),
                Op::NewItem(sku) => {
                    let d = ItemDraft { sku: sku.clone(), kind: "stock".into(), ..Default::default() };
                    let want = m.add_item(&d).map_err(|e| e.to_string()).and_then(|_| {
                        workflow::map_channel_sku(&mut m, None, &sku, &cx).map(drop).map_err(|e| e.to_string())
                    });
                    (db.store.create_item(d, "t").await.map(drop).map_err(|e| e.to_string()), want)
                }
                Op::Listing(ch, channel_sku, sku) => {
                    let l =
                        NewListing { channel_sku: channel_sku.clone(), sku: Some(sku.clone()), ..Default::default() };
                    let got = db.store.create_listing(ch, l, "t").await.map(drop).map_err(|e| e.to_string());
                    let want = if m.listings.contains_key(&(ch, channel_sku.clone())) {
                        Err("exists".to_owned())
                    } else {
                        let item = m.items.iter().find(|i| i.sku.as_str() == sku).unwrap().id;
                        m.listings.insert((ch, channel_sku.clone()), item);
                        workflow::map_channel_sku(&mut m, Some(ch), &channel_sku, &cx)
                            .map(drop)
                            .map_err(|e| e.to_string())
                    };
                    (got, want)
                }
            };
            assert_eq!(got.is_ok(), want.is_ok(), "seed {seed} step {step}: store {got:?} vs model {want:?}");
        }
        assert_eq!(m.violations(), Vec::<String>::new(), "seed {seed}: model invariants");
        assert_eq!(db.store.check().await.unwrap(), Vec::<String>::new(), "seed {seed}: store invariants");
        let (s, r) = (store_state(&db), model_state(&m));
        let only_store: Vec<_> = s.difference(&r).take(5).collect();
        let only_model: Vec<_> = r.difference(&s).take(5).collect();
        assert!(
            only_store.is_empty() && only_model.is_empty(),
            "seed {seed}: store {only_store:?} vs model {only_model:?}"
        );
    }
}
