//! Exactly once (PRODUCT.md §8.4): the same order imported again changes
//! nothing, and versions replayed late or out of order are ignored by their
//! `updated_at`.

use proptest::prelude::*;
use stocksync_core::mem::MemBooks;
use stocksync_core::order::{IncomingOrder, OrderStatus, RawLine, SourceStatus};
use stocksync_core::workflow::import_order;
use stocksync_core::{ChannelId, Timestamp};

use crate::common::{assert_clean, bundle, cx, incoming, open, put, snapshot, stock_item};

/// EAST and WEST, a channel that splits, A-1, B-2, KIT = 2 × A-1 + B-2; scarce stock.
fn books() -> (MemBooks, ChannelId) {
    let mut b = MemBooks::default();
    b.add_fc("EAST", 1, true);
    b.add_fc("WEST", 2, true);
    let ch = b.add_channel("shop", true, None);
    stock_item(&mut b, "A-1", &["A-OLD"]);
    stock_item(&mut b, "B-2", &[]);
    bundle(&mut b, "KIT", &[("A-1", 2), ("B-2", 1)], &[]);
    put(&mut b, "A-1", "EAST", 4);
    put(&mut b, "A-1", "WEST", 3);
    put(&mut b, "B-2", "WEST", 2);
    (b, ch)
}

#[test]
fn the_same_order_imported_twice_changes_nothing_the_second_time() {
    let (mut b, ch) = books();
    let inc = open(ch, "O-1", 10, &[("L1", "A-1", 2), ("L2", "KIT", 1), ("L3", "ZZ-9", 1)]);
    let first = import_order(&mut b, &inc, &cx(10)).unwrap();
    assert!(first.created && first.changed);
    let after_first = snapshot(&b);
    for t in [11, 12, 13] {
        let again = import_order(&mut b, &inc, &cx(t)).unwrap();
        assert_eq!(
            (again.order, again.created, again.changed, again.status),
            (first.order, false, false, first.status)
        );
        assert_eq!(snapshot(&b), after_first, "a replay changed the state");
    }

    // Without `updated_at` the content alone decides.
    let raw: Vec<RawLine> = vec![("L1".to_owned(), "B-2".to_owned(), 1)];
    let plain = IncomingOrder::new(ch, "O-2", SourceStatus::Open, Timestamp(20), None, &raw).unwrap();
    import_order(&mut b, &plain, &cx(20)).unwrap();
    let snap = snapshot(&b);
    let again = import_order(&mut b, &plain, &cx(21)).unwrap();
    assert!(!again.changed);
    assert_eq!(snapshot(&b), snap);
    assert_clean(&b);
}

#[test]
fn an_older_version_is_ignored() {
    let (mut b, ch) = books();
    let v1 = incoming(ch, "O-1", SourceStatus::Open, 10, 10, &[("L1", "A-1", 2)]);
    let v2 = incoming(ch, "O-1", SourceStatus::Open, 10, 20, &[("L1", "A-1", 3)]);
    let v3 = incoming(ch, "O-1", SourceStatus::Cancelled, 10, 30, &[("L1", "A-1", 3)]);
    import_order(&mut b, &v1, &cx(10)).unwrap();
    import_order(&mut b, &v3, &cx(11)).unwrap();
    let snap = snapshot(&b);
    // v2 arrives late (a webhook retried after the poll saw v3): ignored.
    let late = import_order(&mut b, &v2, &cx(12)).unwrap();
    assert!(!late.changed);
    assert_eq!(late.status, OrderStatus::Cancelled);
    assert_eq!(snapshot(&b), snap);
    assert_clean(&b);
}

/// Versions of one order: (status, lines as (line id, SKU, quantity)).
type Version = (SourceStatus, Vec<(usize, usize, i64)>);

const SKUS: [&str; 5] = ["A-1", "B-2", "KIT", "A-OLD", "ZZ-9"];

fn versions() -> impl Strategy<Value = Vec<Version>> {
    let status = prop_oneof![
        6 => Just(SourceStatus::Open),
        1 => Just(SourceStatus::Cancelled),
        1 => Just(SourceStatus::Shipped),
    ];
    let lines = prop::collection::btree_map(0usize..4, (0usize..SKUS.len(), 1i64..=4), 1..=3)
        .prop_map(|m| m.into_iter().map(|(id, (sku, q))| (id, sku, q)).collect::<Vec<_>>());
    prop::collection::vec((status, lines), 1..=6)
}

fn build(ch: ChannelId, order: usize, placed: i64, updated: i64, v: &Version) -> IncomingOrder {
    let raw: Vec<RawLine> = v.1.iter().map(|&(id, sku, q)| (format!("L{id}"), SKUS[sku].to_owned(), q)).collect();
    IncomingOrder::new(ch, &format!("O-{order}"), v.0, Timestamp(placed), Some(Timestamp(updated)), &raw).unwrap()
}

/// A permutation of `0..n` from `seed` (xorshift + Fisher–Yates).
fn shuffled(n: usize, mut seed: u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    seed |= 1;
    for i in (1..n).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::common::cases(96), ..ProptestConfig::default() })]

    /// Orders' versions imported in order (interleaved across orders), then
    /// every version replayed twice more in shuffled order: the state is
    /// exactly that of the clean import.
    #[test]
    fn replayed_versions_in_any_order_change_nothing(
        orders in prop::collection::vec(versions(), 1..=3),
        seeds in (any::<u64>(), any::<u64>()),
    ) {
        // The clean import: round-robin over the orders, times strictly increasing.
        let mut sent: Vec<IncomingOrder> = Vec::new();
        let deepest = orders.iter().map(Vec::len).max().unwrap_or(0);
        let (mut clean, ch) = books();
        let mut t = 100;
        for k in 0..deepest {
            for (n, vs) in orders.iter().enumerate() {
                if let Some(v) = vs.get(k) {
                    t += 1;
                    let inc = build(ch, n, n as i64 + 1, t, v);
                    import_order(&mut clean, &inc, &cx(t)).unwrap();
                    prop_assert!(clean.violations().is_empty(), "{:?}", clean.violations());
                    sent.push(inc);
                }
            }
        }
        let want = snapshot(&clean);

        let (mut replayed, _) = books();
        let mut t2 = 100;
        for inc in &sent {
            t2 += 1;
            import_order(&mut replayed, inc, &cx(t2)).unwrap();
        }
        prop_assert_eq!(&snapshot(&replayed), &want, "the same imports gave a different state");
        for seed in [seeds.0, seeds.1] {
            for i in shuffled(sent.len(), seed) {
                t2 += 1;
                let out = import_order(&mut replayed, &sent[i], &cx(t2)).unwrap();
                prop_assert!(!out.changed && !out.created, "replay of {:?} changed the order", sent[i]);
            }
        }
        prop_assert_eq!(&snapshot(&replayed), &want);
        prop_assert!(replayed.violations().is_empty());
    }
}
