//! Helpers shared by the test modules: building a `MemBooks`, orders, and
//! comparing whole states.

use std::collections::{BTreeMap, BTreeSet};

use stocksync_core::books::Level;
use stocksync_core::catalog::ItemDraft;
use stocksync_core::mem::{MemBooks, MemMovement};
use stocksync_core::order::{IncomingOrder, Order, SourceStatus};
use stocksync_core::workflow::{Ctx, StockTarget, set_stock};
use stocksync_core::{ChannelId, FcId, ItemId, OrderId, Rejection, Timestamp};

pub const ACTOR: &str = "test";

/// The context of an operation at `t` milliseconds.
pub fn cx(t: i64) -> Ctx<'static> {
    Ctx { at: Timestamp(t), actor: ACTOR }
}

pub fn draft(sku: &str, kind: &str, components: &[(&str, i64)], aliases: &[&str]) -> ItemDraft {
    ItemDraft {
        sku: sku.to_owned(),
        title: None,
        kind: kind.to_owned(),
        components: components.iter().map(|(s, q)| ((*s).to_owned(), *q)).collect(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
    }
}

pub fn stock_item(b: &mut MemBooks, sku: &str, aliases: &[&str]) -> ItemId {
    b.add_item(&draft(sku, "stock", &[], aliases)).unwrap_or_else(|e| panic!("add {sku}: {e}"))
}

pub fn bundle(b: &mut MemBooks, sku: &str, components: &[(&str, i64)], aliases: &[&str]) -> ItemId {
    b.add_item(&draft(sku, "bundle", components, aliases)).unwrap_or_else(|e| panic!("add {sku}: {e}"))
}

/// Sets `on_hand` through the workflow, so the ledger has the row.
pub fn put(b: &mut MemBooks, sku: &str, fc: &str, on_hand: i64) -> Level {
    set_stock(b, sku, fc, StockTarget::OnHand(on_hand), None, "test:setup", &cx(0))
        .unwrap_or_else(|e| panic!("set {sku}@{fc}: {e}"))
}

/// An incoming order placed at `placed`, last modified at `updated`.
pub fn incoming(
    channel: ChannelId,
    external: &str,
    status: SourceStatus,
    placed: i64,
    updated: i64,
    lines: &[(&str, &str, i64)],
) -> IncomingOrder {
    let raw: Vec<(String, String, i64)> =
        lines.iter().map(|(l, s, q)| ((*l).to_owned(), (*s).to_owned(), *q)).collect();
    IncomingOrder::new(channel, external, status, Timestamp(placed), Some(Timestamp(updated)), &raw)
        .unwrap_or_else(|e| panic!("order {external}: {e}"))
}

/// An open order placed (and last modified) at `placed`.
pub fn open(channel: ChannelId, external: &str, placed: i64, lines: &[(&str, &str, i64)]) -> IncomingOrder {
    incoming(channel, external, SourceStatus::Open, placed, placed, lines)
}

pub fn order(b: &MemBooks, id: OrderId) -> &Order {
    b.orders.get(&id).unwrap_or_else(|| panic!("no order {}", id.0))
}

pub fn assert_clean(b: &MemBooks) {
    let v = b.violations();
    assert!(v.is_empty(), "invariants broken:\n{}", v.join("\n"));
}

/// Everything observable in a `MemBooks`, comparable as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub levels: BTreeMap<(ItemId, FcId), Level>,
    pub movements: Vec<MemMovement>,
    pub orders: BTreeMap<OrderId, Order>,
    pub traces: BTreeMap<OrderId, Vec<String>>,
    pub listings: BTreeMap<(ChannelId, String), ItemId>,
    pub marked: BTreeSet<ItemId>,
    pub items: Vec<String>,
    pub fcs: Vec<String>,
    pub channels: Vec<String>,
}

pub fn snapshot(b: &MemBooks) -> Snapshot {
    Snapshot {
        levels: b.levels.clone(),
        movements: b.movements.clone(),
        orders: b.orders.clone(),
        traces: b.traces.clone(),
        listings: b.listings.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        marked: b.marked.clone(),
        items: b.items.iter().map(|i| format!("{i:?}")).collect(),
        fcs: b.fcs.iter().map(|f| format!("{f:?}")).collect(),
        channels: b.channels.iter().map(|c| format!("{c:?}")).collect(),
    }
}

/// The fields named by a rejection, or a panic if it is not `Invalid`.
pub fn invalid_fields(r: &Rejection) -> Vec<String> {
    match r {
        Rejection::Invalid(errors) => errors.iter().map(|e| e.field.clone()).collect(),
        other => panic!("expected Rejection::Invalid, got {other:?}"),
    }
}

/// Asserts `r` is `Invalid` with exactly one error on `field` whose message
/// contains `needle`.
#[track_caller]
pub fn assert_invalid<T: std::fmt::Debug>(r: Result<T, Rejection>, field: &str, needle: &str) {
    let e = r.expect_err("expected a rejection");
    let Rejection::Invalid(errors) = &e else { panic!("expected Rejection::Invalid, got {e:?}") };
    assert_eq!(errors.len(), 1, "expected one error, got {errors:?}");
    assert_eq!(errors[0].field, field, "{e}");
    assert!(errors[0].message.contains(needle), "{:?} does not contain {needle:?}", errors[0].message);
    assert!(e.to_string().contains(field), "the message names the field: {e}");
}

/// Property-test cases: `default`, or `PROPTEST_CASES` when set (for a
/// longer run: `PROPTEST_CASES=5000 cargo test -p stocksync-core --test it props`).
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}
