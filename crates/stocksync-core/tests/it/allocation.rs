//! The allocation rule of PRODUCT.md §3 as a table of cases, traces included.
//! Every plan `allocate` returns here is also checked with `check_plan`.

use std::collections::HashMap;

use stocksync_core::allocation::{FcRef, LinePlan, Mode, Need, Part, Plan, allocate, check_plan};
use stocksync_core::{FcCode, FcId, ItemId, Sku};

const A: ItemId = ItemId(1);
const B: ItemId = ItemId(2);

const FULL: Mode = Mode { whole_order_first: true, allow_split: true };
const NO_SPLIT: Mode = Mode { whole_order_first: true, allow_split: false };
const PER_LINE: Mode = Mode { whole_order_first: false, allow_split: true };

fn fcs(codes: &[&str]) -> Vec<FcRef> {
    codes.iter().enumerate().map(|(i, c)| FcRef { id: FcId(i as i64 + 1), code: FcCode::parse(c).unwrap() }).collect()
}

fn part(item: ItemId, per_unit: u32) -> Part {
    let sku = match item.0 {
        1 => "A-1",
        2 => "B-2",
        _ => unreachable!(),
    };
    Part { item, sku: Sku::parse(sku).unwrap(), per_unit }
}

/// Available units: one row per item, one column per FC (in `fcs` order).
fn stock(rows: &[(ItemId, &[i64])]) -> HashMap<(ItemId, FcId), i64> {
    let mut m = HashMap::new();
    for (item, per_fc) in rows {
        for (i, q) in per_fc.iter().enumerate() {
            m.insert((*item, FcId(i as i64 + 1)), *q);
        }
    }
    m
}

fn need<'a>(line_no: usize, label: &'a str, parts: &'a [Part], units: u32) -> Need<'a> {
    Need { line_no, label, parts, units }
}

/// `allocate`, with the plan verified by `check_plan`.
fn run(needs: &[Need<'_>], fcs: &[FcRef], stock: &HashMap<(ItemId, FcId), i64>, mode: Mode) -> Plan {
    let plan = allocate(needs, fcs, stock, mode);
    if let Err(e) = check_plan(needs, fcs, stock, mode, &plan) {
        panic!("check_plan rejects allocate's plan: {e}\n{plan:#?}");
    }
    plan
}

fn takes(t: &[(usize, u32)], backordered: u32) -> LinePlan {
    LinePlan { takes: t.to_vec(), backordered }
}

#[test]
fn one_line_order_takes_the_highest_priority_fc_with_stock() {
    let f = fcs(&["EAST", "WEST", "NORTH"]);
    let a = [part(A, 1)];
    let plan = run(&[need(1, "A-1", &a, 3)], &f, &stock(&[(A, &[1, 5, 9])]), FULL);
    assert_eq!(plan.lines, [takes(&[(1, 3)], 0)]);
    assert_eq!(
        plan.trace,
        ["EAST cannot cover the order: A-1 needs 3, has 1", "WEST covers the whole order", "line 1 (A-1 ×3) → WEST"]
    );
}

#[test]
fn one_line_order_stays_in_the_first_fc_when_it_has_enough() {
    let f = fcs(&["EAST", "WEST"]);
    let a = [part(A, 1)];
    let plan = run(&[need(1, "A-1", &a, 2)], &f, &stock(&[(A, &[2, 50])]), FULL);
    assert_eq!(plan.lines, [takes(&[(0, 2)], 0)]);
    assert_eq!(plan.trace, ["EAST covers the whole order", "line 1 (A-1 ×2) → EAST"]);
}

#[test]
fn negative_availability_counts_as_none() {
    let f = fcs(&["EAST", "WEST"]);
    let a = [part(A, 1)];
    let plan = run(&[need(1, "A-1", &a, 1)], &f, &stock(&[(A, &[-2, 4])]), FULL);
    assert_eq!(plan.lines, [takes(&[(1, 1)], 0)]);
    assert_eq!(plan.trace[0], "EAST cannot cover the order: A-1 needs 1, has 0");
}

#[test]
fn the_whole_order_goes_to_one_fc_before_lines_are_placed_one_by_one() {
    let f = fcs(&["EAST", "WEST"]);
    let (a, b) = ([part(A, 1)], [part(B, 1)]);
    let needs = [need(1, "A-1", &a, 2), need(2, "B-2", &b, 2)];
    let s = stock(&[(A, &[5, 2]), (B, &[0, 2])]);

    let plan = run(&needs, &f, &s, FULL);
    assert_eq!(plan.lines, [takes(&[(1, 2)], 0), takes(&[(1, 2)], 0)], "one parcel from WEST");
    assert_eq!(
        plan.trace,
        [
            "EAST cannot cover the order: B-2 needs 2, has 0",
            "WEST covers the whole order",
            "line 1 (A-1 ×2) → WEST",
            "line 2 (B-2 ×2) → WEST",
        ]
    );

    // Without step 1 (backorder re-allocation), each line takes its own first FC.
    let plan = run(&needs, &f, &s, PER_LINE);
    assert_eq!(plan.lines, [takes(&[(0, 2)], 0), takes(&[(1, 2)], 0)]);
    assert_eq!(plan.trace, ["line 1 (A-1 ×2) → EAST", "line 2 (B-2 ×2) → WEST"]);
}

#[test]
fn whole_order_demand_adds_up_an_item_across_lines_and_bundles() {
    let f = fcs(&["EAST", "WEST"]);
    let (a, kit) = ([part(A, 1)], [part(A, 1), part(B, 1)]);
    let needs = [need(1, "A-1", &a, 2), need(2, "KIT", &kit, 2)];
    let s = stock(&[(A, &[3, 4]), (B, &[5, 2])]);
    let plan = run(&needs, &f, &s, FULL);
    assert_eq!(plan.lines, [takes(&[(1, 2)], 0), takes(&[(1, 2)], 0)]);
    assert_eq!(plan.trace[0], "EAST cannot cover the order: A-1 needs 4, has 3");
    assert_eq!(plan.trace[1], "WEST covers the whole order");
    assert_eq!(plan.trace[3], "line 2 (KIT ×2) → WEST");
}

#[test]
fn without_a_whole_order_fc_each_line_takes_the_first_fc_that_covers_it() {
    let f = fcs(&["EAST", "WEST"]);
    let (a, b) = ([part(A, 1)], [part(B, 1)]);
    let needs = [need(1, "A-1", &a, 2), need(2, "B-2", &b, 2)];
    let plan = run(&needs, &f, &stock(&[(A, &[5, 0]), (B, &[0, 5])]), FULL);
    assert_eq!(plan.lines, [takes(&[(0, 2)], 0), takes(&[(1, 2)], 0)]);
    assert_eq!(
        plan.trace,
        [
            "EAST cannot cover the order: B-2 needs 2, has 0",
            "WEST cannot cover the order: A-1 needs 2, has 0",
            "line 1 (A-1 ×2) → EAST",
            "line 2 (B-2 ×2) → WEST",
        ]
    );
}

#[test]
fn per_line_pass_sees_what_earlier_lines_took() {
    let f = fcs(&["EAST", "WEST"]);
    let a = [part(A, 1)];
    let needs = [need(1, "A-1", &a, 3), need(2, "A-1", &a, 3)];
    let plan = run(&needs, &f, &stock(&[(A, &[4, 3])]), FULL);
    assert_eq!(plan.lines, [takes(&[(0, 3)], 0), takes(&[(1, 3)], 0)]);
    assert_eq!(&plan.trace[2..], ["line 1 (A-1 ×3) → EAST", "line 2 (A-1 ×3) → WEST"]);
}

#[test]
fn lines_one_fc_can_cover_are_placed_before_any_line_is_split() {
    let f = fcs(&["EAST", "WEST"]);
    let a = [part(A, 1)];
    let needs = [need(1, "A-1", &a, 4), need(2, "A-1", &a, 3)];
    let plan = run(&needs, &f, &stock(&[(A, &[3, 3])]), FULL);
    assert_eq!(plan.lines, [takes(&[(1, 3)], 1), takes(&[(0, 3)], 0)]);
    assert_eq!(
        plan.trace,
        [
            "EAST cannot cover the order: A-1 needs 7, has 3",
            "WEST cannot cover the order: A-1 needs 7, has 3",
            "line 2 (A-1 ×3) → EAST",
            "line 1 (A-1 ×4): split WEST 3; 1 backordered (not enough stock in any FC)",
        ]
    );
}

#[test]
fn a_line_splits_greedily_in_priority_order() {
    let f = fcs(&["EAST", "WEST", "NORTH"]);
    let a = [part(A, 1)];
    let plan = run(&[need(1, "A-1", &a, 5)], &f, &stock(&[(A, &[2, 1, 4])]), FULL);
    assert_eq!(plan.lines, [takes(&[(0, 2), (1, 1), (2, 2)], 0)]);
    assert_eq!(plan.trace.last().unwrap(), "line 1 (A-1 ×5): no single FC covers it; split EAST 2 + WEST 1 + NORTH 2");
}

#[test]
fn no_split_when_the_channel_forbids_it() {
    let f = fcs(&["EAST", "WEST", "NORTH"]);
    let a = [part(A, 1)];
    let s = stock(&[(A, &[2, 1, 4])]);
    let plan = run(&[need(1, "A-1", &a, 5)], &f, &s, NO_SPLIT);
    assert_eq!(plan.lines, [takes(&[], 5)]);
    assert_eq!(
        plan.trace.last().unwrap(),
        "line 1 (A-1 ×5): 5 backordered (no single FC covers it and splitting is off for this channel)"
    );
    // A line one FC covers is still placed.
    let plan = run(&[need(1, "A-1", &a, 3)], &f, &s, NO_SPLIT);
    assert_eq!(plan.lines, [takes(&[(2, 3)], 0)]);
}

#[test]
fn bundle_lines_take_whole_bundle_units_with_all_components_from_one_fc() {
    let f = fcs(&["EAST", "WEST", "NORTH", "SOUTH"]);
    let kit = [part(A, 2), part(B, 1)];
    // Bundle units per FC: EAST min(6/2, 1) = 1, WEST min(3/2, 5) = 1, NORTH 0, SOUTH min(2/2, 1) = 1.
    let s = stock(&[(A, &[6, 3, 1, 2]), (B, &[1, 5, 9, 1])]);
    let plan = run(&[need(1, "KIT", &kit, 3)], &f, &s, FULL);
    assert_eq!(plan.lines, [takes(&[(0, 1), (1, 1), (3, 1)], 0)]);
    assert_eq!(
        plan.trace,
        [
            "EAST cannot cover the order: B-2 needs 3, has 1",
            "WEST cannot cover the order: A-1 needs 6, has 3",
            "NORTH cannot cover the order: A-1 needs 6, has 1",
            "SOUTH cannot cover the order: A-1 needs 6, has 2",
            "line 1 (KIT ×3): no single FC covers it; split EAST 1 + WEST 1 + SOUTH 1",
        ]
    );
}

#[test]
fn a_bundle_unit_is_never_assembled_from_two_fcs() {
    let f = fcs(&["EAST", "WEST"]);
    let kit = [part(A, 1), part(B, 1)];
    let plan = run(&[need(1, "KIT", &kit, 1)], &f, &stock(&[(A, &[1, 0]), (B, &[0, 1])]), FULL);
    assert_eq!(plan.lines, [takes(&[], 1)]);
    assert_eq!(plan.trace.last().unwrap(), "line 1 (KIT ×1): 1 backordered (not enough stock in any FC)");
}

#[test]
fn what_no_fc_can_cover_is_backordered() {
    let f = fcs(&["EAST", "WEST"]);
    let a = [part(A, 1)];
    let plan = run(&[need(1, "A-1", &a, 10)], &f, &stock(&[(A, &[3, 4])]), FULL);
    assert_eq!(plan.lines, [takes(&[(0, 3), (1, 4)], 3)]);
    assert_eq!(
        plan.trace.last().unwrap(),
        "line 1 (A-1 ×10): split EAST 3 + WEST 4; 3 backordered (not enough stock in any FC)"
    );

    let plan = run(&[need(1, "A-1", &a, 2)], &f, &stock(&[(A, &[0, 0])]), FULL);
    assert_eq!(plan.lines, [takes(&[], 2)]);
    assert_eq!(
        plan.trace,
        [
            "EAST cannot cover the order: A-1 needs 2, has 0",
            "WEST cannot cover the order: A-1 needs 2, has 0",
            "line 1 (A-1 ×2): 2 backordered (not enough stock in any FC)",
        ]
    );
}

#[test]
fn without_fulfillment_centers_everything_is_backordered() {
    let a = [part(A, 1)];
    let plan = run(&[need(1, "A-1", &a, 2)], &[], &stock(&[]), FULL);
    assert_eq!(plan.lines, [takes(&[], 2)]);
    assert_eq!(
        plan.trace,
        [
            "no active fulfillment center sells on this channel",
            "line 1 (A-1 ×2): 2 backordered (not enough stock in any FC)"
        ]
    );
}

#[test]
fn unmapped_lines_take_nothing_and_do_not_block_the_whole_order() {
    let f = fcs(&["EAST"]);
    let a = [part(A, 1)];
    let needs = [need(1, "ZZ-9", &[], 3), need(2, "A-1", &a, 1)];
    let plan = run(&needs, &f, &stock(&[(A, &[1])]), FULL);
    assert_eq!(plan.lines, [takes(&[], 0), takes(&[(0, 1)], 0)]);
    assert_eq!(plan.trace, ["EAST covers the whole order", "line 2 (A-1 ×1) → EAST"]);

    let plan = run(&[need(1, "ZZ-9", &[], 3)], &f, &stock(&[]), FULL);
    assert_eq!(plan, Plan { lines: vec![takes(&[], 0)], trace: vec![] });
}

#[test]
fn check_plan_rejects_plans_that_break_the_rule() {
    let f = fcs(&["EAST", "WEST"]);
    let a = [part(A, 1)];
    let needs = [need(1, "A-1", &a, 2)];
    let s = stock(&[(A, &[2, 5])]);
    let with = |t: &[(usize, u32)], back: u32| Plan { lines: vec![takes(t, back)], trace: vec![] };

    assert!(check_plan(&needs, &f, &s, FULL, &with(&[(0, 2)], 0)).is_ok());
    let e = check_plan(&needs, &f, &s, FULL, &with(&[(1, 2)], 0)).unwrap_err();
    assert!(e.contains("EAST covers the whole order"), "{e}");
    let e = check_plan(&needs, &f, &s, FULL, &with(&[(0, 1)], 0)).unwrap_err();
    assert!(e.contains("1 taken + 0 backordered ≠ 2"), "{e}");
    let e = check_plan(&needs, &f, &s, FULL, &with(&[], 2)).unwrap_err();
    assert!(e.contains("EAST"), "a needless backorder is caught: {e}");

    let needs = [need(1, "A-1", &a, 6)];
    let e = check_plan(&needs, &f, &s, FULL, &with(&[(0, 3), (1, 3)], 0)).unwrap_err();
    assert!(e.contains("overdrawn"), "{e}");
    let e = check_plan(&needs, &f, &s, FULL, &with(&[(1, 5)], 1)).unwrap_err();
    assert!(e.contains("greedy split"), "{e}");
    assert!(check_plan(&needs, &f, &s, FULL, &with(&[(0, 2), (1, 4)], 0)).is_ok());
    assert!(check_plan(&needs, &f, &s, NO_SPLIT, &with(&[], 6)).is_ok());
}
