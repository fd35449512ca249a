//! The order workflow of PRODUCT.md §2 in scenarios over `MemBooks`:
//! imports, edits, cancellation, shipment, backorders, counting corrections,
//! unmapped lines.

use stocksync_core::books::{Level, reason};
use stocksync_core::mem::MemBooks;
use stocksync_core::order::{OrderStatus, SourceStatus};
use stocksync_core::workflow::{
    StockTarget, adjust_stock, cancel_order, import_order, map_channel_sku, set_stock, ship_order,
};
use stocksync_core::{ChannelId, FcId, ItemId, OrderId, Rejection, Sku};

use crate::common::{assert_clean, bundle, cx, incoming, open, order, put, snapshot, stock_item};

/// Two FCs (EAST before WEST), one channel that may split, items A-1 (alias
/// A1-OLD), B-2 and KIT = 2 × A-1 + 1 × B-2.
#[derive(Debug)]
struct Shop {
    b: MemBooks,
    ch: ChannelId,
    east: FcId,
    west: FcId,
    a: ItemId,
    bb: ItemId,
    kit: ItemId,
}

fn shop() -> Shop {
    let mut b = MemBooks::default();
    let east = b.add_fc("EAST", 1, true);
    let west = b.add_fc("WEST", 2, true);
    let ch = b.add_channel("shop", true, None);
    let a = stock_item(&mut b, "A-1", &["A1-OLD"]);
    let bb = stock_item(&mut b, "B-2", &[]);
    let kit = bundle(&mut b, "KIT", &[("A-1", 2), ("B-2", 1)], &[]);
    Shop { b, ch, east, west, a, bb, kit }
}

impl Shop {
    fn import(&mut self, ext: &str, placed: i64, lines: &[(&str, &str, i64)]) -> OrderId {
        let out = import_order(&mut self.b, &open(self.ch, ext, placed, lines), &cx(placed)).unwrap();
        assert!(out.created && out.changed);
        assert_clean(&self.b);
        out.order
    }

    fn status(&self, id: OrderId) -> OrderStatus {
        order(&self.b, id).status
    }

    fn level(&self, item: ItemId, fc: FcId) -> Level {
        self.b.level_of(item, fc)
    }

    fn trace(&self, id: OrderId) -> &[String] {
        &self.b.traces[&id]
    }

    /// Open units of `item` the order holds at `fc`.
    fn held(&self, id: OrderId, item: ItemId, fc: FcId) -> i64 {
        let o = order(&self.b, id);
        o.lines
            .iter()
            .flat_map(|l| &l.allocs)
            .filter(|a| !a.shipped && a.item == item && a.fc == fc)
            .map(|a| a.quantity)
            .sum()
    }
}

fn lvl(on_hand: i64, committed: i64) -> Level {
    Level { on_hand, committed }
}

#[test]
fn an_imported_order_commits_its_units_and_records_why() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 5);
    let before = s.b.movements.len();
    let id = s.import("O-1", 10, &[("L1", "A-1", 2)]);

    assert_eq!(s.status(id), OrderStatus::Allocated);
    assert_eq!(s.level(s.a, s.east), lvl(5, 2));
    let m = &s.b.movements[before..];
    assert_eq!(m.len(), 1);
    assert_eq!((m[0].item, m[0].fc, m[0].on_hand_delta, m[0].committed_delta), (s.a, s.east, 0, 2));
    assert_eq!((m[0].reason.as_str(), m[0].reference.as_str()), (reason::ALLOCATED, "order:1"));
    assert_eq!(
        s.trace(id),
        ["imported from shop as open with 1 line(s)", "EAST covers the whole order", "line 1 (A-1 ×2) → EAST"]
    );
    assert_eq!(s.b.listings.get(&(s.ch, "A-1".to_owned())), Some(&s.a), "the first resolution creates the listing");
    assert!(s.b.marked.contains(&s.a) && s.b.marked.contains(&s.kit), "the item and its bundles are marked for a push");
}

#[test]
fn a_channel_sku_resolves_through_an_alias() {
    let mut s = shop();
    put(&mut s.b, "A-1", "WEST", 1);
    let id = s.import("O-1", 10, &[("L1", "A1-OLD", 1)]);
    let o = order(&s.b, id);
    assert_eq!(o.lines[0].item, Some(s.a));
    assert_eq!(o.lines[0].sku, Some(Sku::parse("A-1").unwrap()));
    assert_eq!(s.level(s.a, s.west), lvl(1, 1));
    assert_eq!(s.trace(id).last().unwrap(), "line 1 (A-1 ×1) → WEST");
}

#[test]
fn candidates_are_active_fcs_of_the_channel_by_priority_then_code() {
    let mut b = MemBooks::default();
    let west = b.add_fc("WEST", 1, true);
    let east = b.add_fc("EAST", 1, true);
    let off = b.add_fc("ZERO", 0, false);
    let everywhere = b.add_channel("all", true, None);
    let west_only = b.add_channel("west-only", true, Some(vec![west, off]));
    let a = stock_item(&mut b, "A-1", &[]);
    for fc in ["WEST", "EAST", "ZERO"] {
        put(&mut b, "A-1", fc, 10);
    }
    let o1 = import_order(&mut b, &open(everywhere, "O-1", 1, &[("1", "A-1", 1)]), &cx(1)).unwrap().order;
    let o2 = import_order(&mut b, &open(west_only, "O-2", 2, &[("1", "A-1", 1)]), &cx(2)).unwrap().order;
    assert_clean(&b);
    assert_eq!(b.traces[&o1].last().unwrap(), "line 1 (A-1 ×1) → EAST", "same priority: EAST before WEST");
    assert_eq!(b.traces[&o2].last().unwrap(), "line 1 (A-1 ×1) → WEST", "the channel sells only from WEST");
    assert_eq!(b.level_of(a, east), lvl(10, 1));
    assert_eq!(b.level_of(a, west), lvl(10, 1));
    assert_eq!(b.level_of(a, off), lvl(10, 0), "an inactive FC sells nothing");

    let none = b.add_channel("inactive-only", true, Some(vec![off]));
    let o3 = import_order(&mut b, &open(none, "O-3", 3, &[("1", "A-1", 1)]), &cx(3)).unwrap();
    assert_eq!(o3.status, OrderStatus::Backordered);
    assert_eq!(b.traces[&o3.order][1], "no active fulfillment center sells on this channel");
    assert_clean(&b);
}

#[test]
fn an_order_beyond_the_stock_is_backordered_without_overselling() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 2);
    put(&mut s.b, "A-1", "WEST", 1);
    let id = s.import("O-1", 10, &[("L1", "A-1", 5)]);
    assert_eq!(s.status(id), OrderStatus::Backordered);
    assert_eq!(order(&s.b, id).lines[0].backordered, 2);
    assert_eq!(s.level(s.a, s.east).available(), 0);
    assert_eq!(s.level(s.a, s.west).available(), 0);
    assert_eq!(
        s.trace(id).last().unwrap(),
        "line 1 (A-1 ×5): split EAST 2 + WEST 1; 2 backordered (not enough stock in any FC)"
    );
}

#[test]
fn a_bundle_line_commits_every_component_of_a_unit_in_one_fc() {
    let mut s = shop();
    // EAST builds 1 KIT (A 4 / 2, B 1), WEST builds 1 KIT (A 2 / 2, B 3).
    put(&mut s.b, "A-1", "EAST", 4);
    put(&mut s.b, "B-2", "EAST", 1);
    put(&mut s.b, "A-1", "WEST", 2);
    put(&mut s.b, "B-2", "WEST", 3);
    let id = s.import("O-1", 10, &[("L1", "KIT", 2)]);
    assert_eq!(s.status(id), OrderStatus::Allocated);
    for fc in [s.east, s.west] {
        assert_eq!(s.held(id, s.a, fc), 2);
        assert_eq!(s.held(id, s.bb, fc), 1);
    }
    assert_eq!(s.trace(id).last().unwrap(), "line 1 (KIT ×2): no single FC covers it; split EAST 1 + WEST 1");
    assert_eq!(order(&s.b, id).lines[0].allocated_units(), 2);
}

#[test]
fn cancellation_releases_and_backorders_get_the_stock_oldest_order_first() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 1);
    let o1 = s.import("O-1", 10, &[("L1", "A-1", 1)]);
    let o3 = s.import("O-3", 30, &[("L1", "A-1", 1)]);
    // Imported after O-3 but placed before it: it is the older order.
    let o2 = s.import("O-2", 20, &[("L1", "A-1", 1)]);
    assert_eq!(
        [s.status(o1), s.status(o2), s.status(o3)],
        [OrderStatus::Allocated, OrderStatus::Backordered, OrderStatus::Backordered]
    );

    let before = s.b.movements.len();
    let cancelled = cancel_order(&mut s.b, o1, &cx(40)).unwrap();
    assert_clean(&s.b);
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(
        [s.status(o1), s.status(o2), s.status(o3)],
        [OrderStatus::Cancelled, OrderStatus::Allocated, OrderStatus::Backordered]
    );
    let m: Vec<(i64, &str, &str)> =
        s.b.movements[before..].iter().map(|m| (m.committed_delta, m.reason.as_str(), m.reference.as_str())).collect();
    assert_eq!(m, [(-1, reason::RELEASED, "order:1"), (1, reason::ALLOCATED, "order:3")]);
    assert!(
        s.trace(o1).ends_with(&["cancel requested by test".to_owned(), "cancelled: allocations released".to_owned()])
    );
    assert!(s.trace(o2).contains(&"stock arrived: allocating backordered units".to_owned()));

    // The channel cancels O-2: its unit goes to O-3.
    let out =
        import_order(&mut s.b, &incoming(s.ch, "O-2", SourceStatus::Cancelled, 20, 50, &[("L1", "A-1", 1)]), &cx(50))
            .unwrap();
    assert_clean(&s.b);
    assert!(out.changed && !out.created);
    assert_eq!(out.status, OrderStatus::Cancelled);
    assert_eq!(s.status(o3), OrderStatus::Allocated);
    assert_eq!(s.level(s.a, s.east), lvl(1, 1));

    // Terminal orders cannot be cancelled or shipped again.
    let snap = snapshot(&s.b);
    assert!(matches!(cancel_order(&mut s.b, o1, &cx(60)), Err(Rejection::Conflict(_))));
    assert!(matches!(ship_order(&mut s.b, o2, &cx(60)), Err(Rejection::Conflict(_))));
    assert!(matches!(cancel_order(&mut s.b, OrderId(99), &cx(60)), Err(Rejection::NotFound(_))));
    assert_eq!(snapshot(&s.b), snap);
}

#[test]
fn shipment_turns_committed_units_into_an_on_hand_decrease() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 5);
    let id = s.import("O-1", 10, &[("L1", "A-1", 2), ("L2", "ZZ-9", 1)]);
    assert_eq!(s.status(id), OrderStatus::NeedsAttention);
    let before = s.b.movements.len();
    let shipped = ship_order(&mut s.b, id, &cx(20)).unwrap();
    assert_clean(&s.b);
    assert_eq!(shipped.status, OrderStatus::Shipped);
    assert_eq!(s.level(s.a, s.east), lvl(3, 0));
    let m = &s.b.movements[before..];
    assert_eq!(m.len(), 1);
    assert_eq!((m[0].on_hand_delta, m[0].committed_delta, m[0].reason.as_str()), (-2, -2, reason::SHIPPED));
    assert!(s.trace(id).contains(&"line 2 (ZZ-9): 1 unit(s) shipped that were never allocated here".to_owned()));

    // The channel reports the shipment later, then an edit: nothing moves.
    let snap = snapshot(&s.b).movements;
    let inc = incoming(s.ch, "O-1", SourceStatus::Shipped, 10, 30, &[("L1", "A-1", 3)]);
    let out = import_order(&mut s.b, &inc, &cx(30)).unwrap();
    assert_clean(&s.b);
    assert_eq!(out.status, OrderStatus::Shipped);
    assert_eq!(s.b.movements, snap);
    assert_eq!(s.trace(id).last().unwrap(), "the order has shipped: stock unchanged");
}

#[test]
fn a_shipped_import_ships_what_it_allocates() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 5);
    let out =
        import_order(&mut s.b, &incoming(s.ch, "O-1", SourceStatus::Shipped, 10, 10, &[("L1", "A-1", 2)]), &cx(10))
            .unwrap();
    assert_clean(&s.b);
    assert_eq!(out.status, OrderStatus::Shipped);
    assert_eq!(s.level(s.a, s.east), lvl(3, 0));

    let out =
        import_order(&mut s.b, &incoming(s.ch, "O-2", SourceStatus::Cancelled, 11, 11, &[("L1", "A-1", 2)]), &cx(11))
            .unwrap();
    assert_clean(&s.b);
    assert_eq!(out.status, OrderStatus::Cancelled);
    assert_eq!(s.level(s.a, s.east), lvl(3, 0), "a cancelled order takes nothing");
}

#[test]
fn a_cancelled_order_reopened_by_the_channel_allocates_again() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 5);
    let id = s.import("O-1", 10, &[("L1", "A-1", 2)]);
    let lines = [("L1", "A-1", 2)];
    import_order(&mut s.b, &incoming(s.ch, "O-1", SourceStatus::Cancelled, 10, 20, &lines), &cx(20)).unwrap();
    assert_eq!(s.level(s.a, s.east), lvl(5, 0));
    let out = import_order(&mut s.b, &incoming(s.ch, "O-1", SourceStatus::Open, 10, 30, &lines), &cx(30)).unwrap();
    assert_clean(&s.b);
    assert_eq!(out.status, OrderStatus::Allocated);
    assert_eq!(s.level(s.a, s.east), lvl(5, 2));
    assert!(s.trace(id).contains(&"reopened by the channel".to_owned()));

    // Cancelled in stocksync, the channel's unchanged copy does not revive it.
    cancel_order(&mut s.b, id, &cx(40)).unwrap();
    let out = import_order(&mut s.b, &incoming(s.ch, "O-1", SourceStatus::Open, 10, 30, &lines), &cx(50)).unwrap();
    assert!(!out.changed);
    assert_eq!(s.status(id), OrderStatus::Cancelled);
    assert_eq!(s.level(s.a, s.east), lvl(5, 0));
    assert_clean(&s.b);
}

#[test]
fn edits_apply_only_the_difference() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 3);
    put(&mut s.b, "A-1", "WEST", 10);
    put(&mut s.b, "B-2", "EAST", 5);
    let id = s.import("O-1", 10, &[("L1", "A-1", 2), ("L2", "B-2", 2)]);
    assert_eq!((s.held(id, s.a, s.east), s.held(id, s.bb, s.east)), (2, 2));

    // Quantity up: the extra units come from the first FC that covers them.
    let edit = |q: i64, t: i64, with_b: bool| {
        let mut lines = vec![("L1", "A-1", q)];
        if with_b {
            lines.push(("L2", "B-2", 2));
        }
        incoming(ChannelId(1), "O-1", SourceStatus::Open, 10, t, &lines)
    };
    import_order(&mut s.b, &edit(5, 20, true), &cx(20)).unwrap();
    assert_clean(&s.b);
    assert_eq!((s.held(id, s.a, s.east), s.held(id, s.a, s.west)), (2, 3));
    assert!(s.trace(id).contains(&"line 1 (A-1): quantity 2 → 5".to_owned()));

    // Quantity down: released from the lowest-priority FC first.
    import_order(&mut s.b, &edit(1, 30, true), &cx(30)).unwrap();
    assert_clean(&s.b);
    assert_eq!((s.held(id, s.a, s.east), s.held(id, s.a, s.west)), (1, 0));
    assert_eq!(s.level(s.a, s.east), lvl(3, 1));

    // A removed line releases everything it held.
    let before = s.b.movements.len();
    import_order(&mut s.b, &edit(1, 40, false), &cx(40)).unwrap();
    assert_clean(&s.b);
    assert_eq!(s.level(s.bb, s.east), lvl(5, 0));
    assert_eq!(s.b.movements.len(), before + 1);
    assert!(order(&s.b, id).lines[1].removed);
    assert!(s.trace(id).contains(&"line 2 (B-2) removed by the channel".to_owned()));

    // An added line is allocated; the order is still one order.
    let inc = incoming(s.ch, "O-1", SourceStatus::Open, 10, 50, &[("L1", "A-1", 1), ("L3", "A1-OLD", 2)]);
    let out = import_order(&mut s.b, &inc, &cx(50)).unwrap();
    assert_clean(&s.b);
    assert_eq!(out.order, id);
    assert_eq!(s.held(id, s.a, s.east), 3);
    assert_eq!(s.b.orders.len(), 1);
}

#[test]
fn a_quantity_cut_takes_backordered_units_first() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 2);
    let id = s.import("O-1", 10, &[("L1", "A-1", 5)]);
    assert_eq!(order(&s.b, id).lines[0].backordered, 3);
    let before = s.b.movements.len();
    import_order(&mut s.b, &incoming(s.ch, "O-1", SourceStatus::Open, 10, 20, &[("L1", "A-1", 3)]), &cx(20)).unwrap();
    assert_clean(&s.b);
    assert_eq!(s.b.movements.len(), before, "only backordered units were cut");
    assert_eq!(order(&s.b, id).lines[0].backordered, 1);
    import_order(&mut s.b, &incoming(s.ch, "O-1", SourceStatus::Open, 10, 30, &[("L1", "A-1", 1)]), &cx(30)).unwrap();
    assert_clean(&s.b);
    assert_eq!(s.status(id), OrderStatus::Allocated);
    assert_eq!(s.level(s.a, s.east), lvl(2, 1));
}

#[test]
fn a_quantity_cut_lets_one_fc_cover_a_line_that_may_not_split() {
    let mut s = shop();
    let no_split = s.b.add_channel("no-split", false, None);
    put(&mut s.b, "A-1", "EAST", 2);
    put(&mut s.b, "A-1", "WEST", 1);
    let inc = |q: i64, t: i64| incoming(no_split, "O-1", SourceStatus::Open, 10, t, &[("L1", "A-1", q)]);
    let id = import_order(&mut s.b, &inc(3, 10), &cx(10)).unwrap().order;
    assert_eq!(s.status(id), OrderStatus::Backordered, "no FC has 3 and the channel does not split");
    let out = import_order(&mut s.b, &inc(2, 20), &cx(20)).unwrap();
    assert_clean(&s.b);
    assert_eq!(out.status, OrderStatus::Allocated, "EAST covers the 2 units left");
    assert_eq!(s.held(id, s.a, s.east), 2);
}

#[test]
fn the_import_outcome_reports_the_status_after_backorders_are_served() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 3);
    let id = s.import("O-1", 10, &[("L1", "A-1", 2), ("L2", "A-1", 2)]);
    assert_eq!(s.status(id), OrderStatus::Backordered);
    // Removing line 1 frees two units; line 2's backordered unit takes one.
    let out = import_order(&mut s.b, &incoming(s.ch, "O-1", SourceStatus::Open, 10, 20, &[("L2", "A-1", 2)]), &cx(20))
        .unwrap();
    assert_clean(&s.b);
    assert_eq!(s.status(id), OrderStatus::Allocated);
    assert_eq!(out.status, OrderStatus::Allocated);
}

#[test]
fn a_stock_increase_allocates_backorders_oldest_first() {
    let mut s = shop();
    let o1 = s.import("O-1", 10, &[("L1", "A-1", 2)]);
    let o2 = s.import("O-2", 20, &[("L1", "A-1", 1)]);
    let o3 = s.import("O-3", 30, &[("L1", "A-1", 3)]);
    set_stock(&mut s.b, "A-1", "EAST", StockTarget::OnHand(3), Some("delivery"), "po:7", &cx(40)).unwrap();
    assert_clean(&s.b);
    assert_eq!(
        [s.status(o1), s.status(o2), s.status(o3)],
        [OrderStatus::Allocated, OrderStatus::Allocated, OrderStatus::Backordered]
    );
    let set = s.b.movements.iter().find(|m| m.reference == "po:7").unwrap();
    assert_eq!((set.on_hand_delta, set.reason.as_str()), (3, "delivery"));

    adjust_stock(&mut s.b, "A-1", "WEST", 2, None, "manual", &cx(50)).unwrap();
    assert_clean(&s.b);
    assert_eq!(s.status(o3), OrderStatus::Backordered);
    assert_eq!((order(&s.b, o3).lines[0].backordered, s.held(o3, s.a, s.west)), (1, 2));
    assert_eq!(
        s.trace(o3).last().unwrap(),
        "line 1 (A-1 ×3): split WEST 2; 1 backordered (not enough stock in any FC)"
    );

    // Setting `available` keeps what is committed.
    let l = set_stock(&mut s.b, "A-1", "WEST", StockTarget::Available(4), None, "manual", &cx(60)).unwrap();
    assert_clean(&s.b);
    assert_eq!(s.status(o3), OrderStatus::Allocated, "the new units went to the backorder first");
    // on_hand 2 + 4; then the backorder took one of the four new units.
    assert_eq!(l, lvl(6, 3));
}

#[test]
fn a_counting_correction_releases_the_newest_orders() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 3);
    let ids = [
        s.import("O-1", 10, &[("L1", "A-1", 1)]),
        s.import("O-2", 20, &[("L1", "A-1", 1)]),
        s.import("O-3", 30, &[("L1", "A-1", 1)]),
    ];
    let before = s.b.movements.len();
    let l = set_stock(&mut s.b, "A-1", "EAST", StockTarget::OnHand(1), Some("count"), "count:1", &cx(40)).unwrap();
    assert_clean(&s.b);
    assert_eq!(l, lvl(1, 1));
    assert_eq!(
        ids.map(|id| s.status(id)),
        [OrderStatus::Allocated, OrderStatus::Backordered, OrderStatus::Backordered]
    );
    let m: Vec<(i64, i64, &str, &str)> = s.b.movements[before..]
        .iter()
        .map(|m| (m.on_hand_delta, m.committed_delta, m.reason.as_str(), m.reference.as_str()))
        .collect();
    assert_eq!(
        m,
        [(0, -1, reason::CORRECTION, "order:3"), (0, -1, reason::CORRECTION, "order:2"), (-2, 0, "count", "count:1")]
    );
    assert!(s.trace(ids[2]).contains(&"counting correction: released 1 unit(s) of line 1".to_owned()));

    // A loss by a negative delta is a correction too.
    adjust_stock(&mut s.b, "A-1", "EAST", -1, None, "manual", &cx(50)).unwrap();
    assert_clean(&s.b);
    assert_eq!(s.status(ids[0]), OrderStatus::Backordered);
    assert_eq!(s.level(s.a, s.east), lvl(0, 0));
}

#[test]
fn a_counting_correction_moves_released_orders_to_another_fc_oldest_first() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 3);
    put(&mut s.b, "A-1", "WEST", 1);
    let ids = [
        s.import("O-1", 10, &[("L1", "A-1", 1)]),
        s.import("O-2", 20, &[("L1", "A-1", 1)]),
        s.import("O-3", 30, &[("L1", "A-1", 1)]),
    ];
    assert!(ids.iter().all(|&id| s.held(id, s.a, s.east) == 1));
    set_stock(&mut s.b, "A-1", "EAST", StockTarget::OnHand(1), None, "count:1", &cx(40)).unwrap();
    assert_clean(&s.b);
    assert_eq!(s.held(ids[0], s.a, s.east), 1, "the oldest order keeps its unit");
    assert_eq!(s.held(ids[1], s.a, s.west), 1, "O-2 is older than O-3: it gets WEST's unit");
    assert_eq!(s.status(ids[1]), OrderStatus::Allocated);
    assert_eq!(s.status(ids[2]), OrderStatus::Backordered);
    assert_eq!(s.level(s.a, s.west), lvl(1, 1));
}

#[test]
fn a_counting_correction_releases_whole_bundle_units() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 4);
    put(&mut s.b, "B-2", "EAST", 2);
    let kit = s.import("O-1", 10, &[("L1", "KIT", 2)]);
    let single = s.import("O-2", 5, &[("L1", "A-1", 1)]);
    assert_eq!(s.status(single), OrderStatus::Backordered, "KIT took all of A-1");
    // One A-1 is lost: one KIT unit (2 × A-1, 1 × B-2) is released; the spare A-1 goes to O-2.
    adjust_stock(&mut s.b, "A-1", "EAST", -1, None, "count", &cx(20)).unwrap();
    assert_clean(&s.b);
    assert_eq!(order(&s.b, kit).lines[0].backordered, 1);
    assert_eq!((s.held(kit, s.a, s.east), s.held(kit, s.bb, s.east)), (2, 1));
    assert_eq!(s.status(single), OrderStatus::Allocated);
    assert_eq!(s.level(s.a, s.east), lvl(3, 3));
    assert_eq!(s.level(s.bb, s.east), lvl(2, 1));
}

#[test]
fn an_unmapped_line_needs_attention_until_a_listing_maps_it() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 5);
    put(&mut s.b, "B-2", "EAST", 5);
    let id = s.import("O-1", 10, &[("L1", "A-1", 1), ("L2", "EBAY-123", 2)]);
    let other = s.b.add_channel("other", true, None);
    let elsewhere = import_order(&mut s.b, &open(other, "X-1", 11, &[("L1", "EBAY-123", 1)]), &cx(11)).unwrap().order;
    assert_eq!(s.status(id), OrderStatus::NeedsAttention);
    let o = order(&s.b, id);
    assert_eq!((o.lines[1].item, o.lines[1].backordered, o.lines[1].allocs.len()), (None, 2, 0));
    assert_eq!(s.level(s.bb, s.east), lvl(5, 0), "the unmapped line takes no stock");
    assert_eq!(s.level(s.a, s.east), lvl(5, 1), "the mapped line does");
    assert!(
        s.trace(id)
            .contains(&"line 2: channel SKU EBAY-123 matches no listing, item or alias: needs attention".to_owned())
    );

    s.b.listings.insert((s.ch, "EBAY-123".to_owned()), s.bb);
    assert_eq!(map_channel_sku(&mut s.b, Some(s.ch), "EBAY-123", &cx(20)).unwrap(), 1);
    assert_clean(&s.b);
    assert_eq!(s.status(id), OrderStatus::Allocated);
    assert_eq!(s.level(s.bb, s.east), lvl(5, 2));
    assert!(s.trace(id).contains(&"line 2: channel SKU EBAY-123 now maps to B-2".to_owned()));
    assert_eq!(s.status(elsewhere), OrderStatus::NeedsAttention, "a listing maps one channel only");
    assert_eq!(map_channel_sku(&mut s.b, Some(s.ch), "EBAY-123", &cx(21)).unwrap(), 0, "nothing left to map");
}

#[test]
fn an_unmapped_line_is_allocated_once_an_alias_names_it() {
    let mut s = shop();
    put(&mut s.b, "A-1", "WEST", 1);
    let id = s.import("O-1", 10, &[("L1", "OLD-A", 2)]);
    let other = s.b.add_channel("other", true, None);
    let o2 = import_order(&mut s.b, &open(other, "X-1", 11, &[("L1", "OLD-A", 1)]), &cx(11)).unwrap().order;
    s.b.items[(s.a.0 - 1) as usize].aliases.push(Sku::parse("OLD-A").unwrap());
    assert_eq!(map_channel_sku(&mut s.b, None, "OLD-A", &cx(20)).unwrap(), 2);
    assert_clean(&s.b);
    // O-1 is older: it gets the only unit and backorders the second.
    assert_eq!(s.status(id), OrderStatus::Backordered);
    assert_eq!(s.held(id, s.a, s.west), 1);
    assert_eq!(s.status(o2), OrderStatus::Backordered);

    // Stock arrives: the oldest backorder first.
    put(&mut s.b, "A-1", "EAST", 1);
    assert_clean(&s.b);
    assert_eq!(s.status(id), OrderStatus::Allocated);
    assert_eq!(s.status(o2), OrderStatus::Backordered);
}

#[test]
fn with_import_orders_off_an_order_is_refused_and_nothing_changes() {
    let mut s = shop();
    put(&mut s.b, "A-1", "EAST", 5);
    s.b.channels[0].import_orders = false;
    let snap = snapshot(&s.b);
    let err = import_order(&mut s.b, &open(s.ch, "O-1", 10, &[("L1", "A-1", 1)]), &cx(10)).unwrap_err();
    let Rejection::Conflict(msg) = &err else { panic!("expected a conflict, got {err:?}") };
    assert!(msg.contains("import_orders is off for channel shop"), "{msg}");
    assert_eq!(snapshot(&s.b), snap);
    // Quantities still change by other means.
    adjust_stock(&mut s.b, "A-1", "EAST", -1, Some("sold elsewhere"), "manual", &cx(11)).unwrap();
    assert_eq!(s.level(s.a, s.east), lvl(4, 0));
    assert_clean(&s.b);
}

#[test]
fn every_movement_marks_the_item_and_its_bundles_for_a_push() {
    let mut s = shop();
    put(&mut s.b, "B-2", "EAST", 1);
    assert_eq!(s.b.marked.iter().copied().collect::<Vec<_>>(), [s.bb, s.kit]);
    s.b.marked.clear();
    put(&mut s.b, "A-1", "WEST", 1);
    assert_eq!(s.b.marked.iter().copied().collect::<Vec<_>>(), [s.a, s.kit]);
}
