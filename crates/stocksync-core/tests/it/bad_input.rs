//! Bad input (PRODUCT.md §9): every rejection names the field, and a
//! rejected request leaves `MemBooks` exactly as it was.

use stocksync_core::catalog::ItemDraft;
use stocksync_core::mem::MemBooks;
use stocksync_core::order::{IncomingOrder, RawLine, SourceStatus};
use stocksync_core::values::{LINE_QUANTITY_MAX, SKU_MAX_CHARS, STOCK_MAX};
use stocksync_core::workflow::{StockTarget, adjust_stock, import_order, set_stock};
use stocksync_core::{ChannelId, ItemId, Rejection, Timestamp};

use crate::common::{assert_invalid, bundle, cx, draft, invalid_fields, open, put, snapshot, stock_item};

/// A catalog: A-1 (alias A-OLD), B-2, KIT = A-1 + B-2; one FC, one channel.
fn books() -> MemBooks {
    let mut b = MemBooks::default();
    b.add_fc("EAST", 1, true);
    b.add_channel("shop", true, None);
    stock_item(&mut b, "A-1", &["A-OLD"]);
    stock_item(&mut b, "B-2", &[]);
    bundle(&mut b, "KIT", &[("A-1", 1), ("B-2", 1)], &[]);
    b
}

/// Runs `f` on `b`, asserts it was refused and changed nothing, returns the refusal.
fn refused<T: std::fmt::Debug>(
    b: &mut MemBooks,
    f: impl FnOnce(&mut MemBooks) -> Result<T, Rejection>,
) -> Result<T, Rejection> {
    let before = snapshot(b);
    let r = f(b);
    assert!(r.is_err(), "expected a rejection, got {r:?}");
    assert_eq!(snapshot(b), before, "a rejected request changed the state");
    r
}

fn add(b: &mut MemBooks, d: &ItemDraft) -> Result<ItemId, Rejection> {
    refused(b, |b| b.add_item(d))
}

fn one_line(sku: &str, quantity: i64) -> Result<IncomingOrder, Rejection> {
    lines(&[("L1", sku, quantity)])
}

fn lines(raw: &[(&str, &str, i64)]) -> Result<IncomingOrder, Rejection> {
    let raw: Vec<RawLine> = raw.iter().map(|(l, s, q)| ((*l).to_owned(), (*s).to_owned(), *q)).collect();
    IncomingOrder::new(ChannelId(1), "O-1", SourceStatus::Open, Timestamp(0), None, &raw)
}

// SKUs, wherever they appear.

#[test]
fn an_empty_sku_is_refused() {
    let mut b = books();
    assert_invalid(add(&mut b, &draft("", "stock", &[], &[])), "sku", "must not be empty");
    assert_invalid(one_line("", 1), "lines[0].channel_sku", "must not be empty");
    assert_invalid(add(&mut b, &draft("C-3", "stock", &[], &[""])), "aliases[0]", "must not be empty");
    assert_invalid(add(&mut b, &draft("K2", "bundle", &[("", 1)], &[])), "components[0].sku", "must not be empty");
}

#[test]
fn a_whitespace_only_sku_is_refused() {
    let mut b = books();
    assert_invalid(add(&mut b, &draft("   ", "stock", &[], &[])), "sku", "only whitespace");
    assert_invalid(one_line(" \t ", 1), "lines[0].channel_sku", "whitespace");
    assert_invalid(add(&mut b, &draft("C-3", "stock", &[], &["A", "  "])), "aliases[1]", "only whitespace");
}

#[test]
fn a_sku_with_surrounding_whitespace_is_refused() {
    let mut b = books();
    assert_invalid(add(&mut b, &draft(" C-3", "stock", &[], &[])), "sku", "start or end with whitespace");
    assert_invalid(one_line("A-1 ", 1), "lines[0].channel_sku", "start or end with whitespace");
}

#[test]
fn an_over_long_sku_is_refused() {
    let mut b = books();
    let long = "X".repeat(SKU_MAX_CHARS + 1);
    assert_eq!(long.len(), 101);
    assert_invalid(add(&mut b, &draft(&long, "stock", &[], &[])), "sku", "101 characters long; the limit is 100");
    assert_invalid(one_line(&long, 1), "lines[0].channel_sku", "the limit is 100");
    assert_invalid(add(&mut b, &draft("C-3", "stock", &[], &[&long])), "aliases[0]", "the limit is 100");
    // Exactly 100 characters is fine.
    let max = "X".repeat(SKU_MAX_CHARS);
    assert!(one_line(&max, 1).is_ok());
    b.add_item(&draft(&max, "stock", &[], &[])).unwrap();
}

#[test]
fn a_sku_with_control_characters_is_refused() {
    let mut b = books();
    for raw in ["A\u{0}1", "A\n1", "A\r1", "A\u{7}1", "A\u{7f}1", "A\u{85}1"] {
        assert_invalid(add(&mut b, &draft(raw, "stock", &[], &[])), "sku", "control characters");
        assert_invalid(one_line(raw, 1), "lines[0].channel_sku", "control characters");
        assert_invalid(add(&mut b, &draft("C-3", "stock", &[], &[raw])), "aliases[0]", "control characters");
    }
}

// Order fields.

#[test]
fn a_zero_quantity_is_refused() {
    assert_invalid(one_line("A-1", 0), "lines[0].quantity", "must be at least 1, got 0");
}

#[test]
fn a_negative_quantity_is_refused() {
    assert_invalid(one_line("A-1", -3), "lines[0].quantity", "must be at least 1, got -3");
    assert_invalid(one_line("A-1", i64::MIN), "lines[0].quantity", "must be at least 1");
}

#[test]
fn an_overflowing_quantity_is_refused() {
    let over = i64::from(LINE_QUANTITY_MAX) + 1;
    assert_invalid(one_line("A-1", over), "lines[0].quantity", "must be at most 1000000, got 1000001");
    assert_invalid(one_line("A-1", i64::from(u32::MAX) + 1), "lines[0].quantity", "must be at most");
    assert_invalid(one_line("A-1", i64::MAX), "lines[0].quantity", "must be at most");
    assert_eq!(one_line("A-1", i64::from(LINE_QUANTITY_MAX)).unwrap().lines[0].quantity, LINE_QUANTITY_MAX);
}

#[test]
fn the_error_names_the_line_it_is_on() {
    assert_invalid(lines(&[("L1", "A-1", 1), ("L2", "B-2", 0)]), "lines[1].quantity", "at least 1");
    assert_invalid(lines(&[("L1", "A-1", 1), ("L1", "B-2", 1)]), "lines[1].line_id", "appears twice");
    assert_invalid(lines(&[("", "A-1", 1)]), "lines[0].line_id", "must not be empty");
    // Every problem is reported, each under its own path.
    let e = lines(&[("L1", "A-1", 0), ("L2", "", 2), ("L3", "C", -1)]).unwrap_err();
    assert_eq!(invalid_fields(&e), ["lines[0].quantity", "lines[1].channel_sku", "lines[2].quantity"]);
}

#[test]
fn order_header_fields_are_checked() {
    assert_invalid(lines(&[]), "lines", "at least one line");
    let raw = [("L1".to_owned(), "A-1".to_owned(), 1)];
    let e = IncomingOrder::new(ChannelId(1), "", SourceStatus::Open, Timestamp(0), None, &raw).unwrap_err();
    assert_eq!(invalid_fields(&e), ["external_id"]);
    let e = IncomingOrder::new(ChannelId(1), "O\u{0}", SourceStatus::Open, Timestamp(0), None, &raw).unwrap_err();
    assert_eq!(invalid_fields(&e), ["external_id"]);
    assert_eq!(SourceStatus::parse("status", "paid").unwrap_err().field, "status");
}

#[test]
fn an_order_for_an_unknown_channel_is_refused() {
    let mut b = books();
    let e =
        refused(&mut b, |b| import_order(b, &open(ChannelId(9), "O-1", 1, &[("L1", "A-1", 1)]), &cx(1))).unwrap_err();
    assert!(matches!(e, Rejection::NotFound(_)), "{e:?}");
}

// Catalog rules.

#[test]
fn a_bundle_naming_itself_is_refused() {
    let mut b = books();
    assert_invalid(add(&mut b, &draft("K2", "bundle", &[("K2", 1)], &[])), "components[0].sku", "the bundle itself");
}

#[test]
fn a_bundle_cycle_is_refused() {
    let mut b = books();
    // K2 contains A-1; turning A-1 into a bundle of K2 would close a cycle.
    bundle(&mut b, "K2", &[("A-1", 1)], &[]);
    let spec = draft("A-1", "bundle", &[("K2", 1)], &["A-OLD"]).validate().unwrap();
    let a1 = ItemId(1);
    let e = spec.check_against(&b, Some(a1)).unwrap_err();
    assert_eq!(invalid_fields(&e), ["components[0].sku"]);
    assert!(e.to_string().contains("K2 contains A-1: that would be a cycle"), "{e}");
}

#[test]
fn a_bundle_of_bundles_is_refused() {
    let mut b = books();
    assert_invalid(
        add(&mut b, &draft("K2", "bundle", &[("KIT", 2)], &[])),
        "components[0].sku",
        "bundles of bundles are not allowed",
    );
}

#[test]
fn a_bundle_of_an_unknown_item_is_refused() {
    let mut b = books();
    assert_invalid(
        add(&mut b, &draft("K2", "bundle", &[("A-1", 1), ("NOPE", 1)], &[])),
        "components[1].sku",
        "unknown item NOPE",
    );
}

#[test]
fn a_component_named_by_an_alias_is_refused() {
    let mut b = books();
    assert_invalid(add(&mut b, &draft("K2", "bundle", &[("A-OLD", 1)], &[])), "components[0].sku", "alias of A-1");
}

#[test]
fn a_component_listed_twice_is_refused() {
    let mut b = books();
    assert_invalid(
        add(&mut b, &draft("K2", "bundle", &[("A-1", 1), ("A-1", 2)], &[])),
        "components[1].sku",
        "listed twice",
    );
}

#[test]
fn a_component_quantity_out_of_range_is_refused() {
    let mut b = books();
    for q in [0, -1, 10_001, i64::MAX] {
        assert_invalid(
            add(&mut b, &draft("K2", "bundle", &[("A-1", q)], &[])),
            "components[0].quantity",
            "between 1 and 10000",
        );
    }
}

#[test]
fn the_kind_and_its_components_must_agree() {
    let mut b = books();
    assert_invalid(add(&mut b, &draft("K2", "kit", &[], &[])), "kind", "\"stock\" or \"bundle\"");
    assert_invalid(
        add(&mut b, &draft("K2", "stock", &[("A-1", 1)], &[])),
        "components",
        "a stock item has no components",
    );
    assert_invalid(add(&mut b, &draft("K2", "bundle", &[], &[])), "components", "at least one component");
}

#[test]
fn a_bad_title_is_refused() {
    let mut b = books();
    let d = ItemDraft { title: Some("bad\u{0}title".to_owned()), ..draft("C-3", "stock", &[], &[]) };
    assert_invalid(add(&mut b, &d), "title", "control characters");
    let d = ItemDraft { title: Some("t".repeat(501)), ..draft("C-3", "stock", &[], &[]) };
    assert_invalid(add(&mut b, &d), "title", "at most 500");
}

#[test]
fn a_duplicate_sku_is_refused() {
    let mut b = books();
    assert_invalid(add(&mut b, &draft("A-1", "stock", &[], &[])), "sku", "A-1 already exists");
    assert_invalid(add(&mut b, &draft("KIT", "bundle", &[("A-1", 1)], &[])), "sku", "KIT already exists");
}

#[test]
fn a_sku_that_is_already_an_alias_is_refused() {
    let mut b = books();
    assert_invalid(add(&mut b, &draft("A-OLD", "stock", &[], &[])), "sku", "already an alias of A-1");
}

#[test]
fn a_duplicate_alias_is_refused() {
    let mut b = books();
    assert_invalid(add(&mut b, &draft("C-3", "stock", &[], &["C", "C"])), "aliases[1]", "listed twice");
    assert_invalid(add(&mut b, &draft("C-3", "stock", &[], &["C", "A-OLD"])), "aliases[1]", "already an alias of A-1");
}

#[test]
fn an_alias_equal_to_another_items_sku_is_refused() {
    let mut b = books();
    assert_invalid(add(&mut b, &draft("C-3", "stock", &[], &["B-2"])), "aliases[0]", "B-2 is the SKU of another item");
    assert_invalid(add(&mut b, &draft("C-3", "stock", &[], &["C-3"])), "aliases[0]", "the item's own SKU");
}

#[test]
fn every_catalog_problem_is_reported_at_once() {
    let mut b = books();
    let e = add(&mut b, &draft("A-1", "bundle", &[("NOPE", 1), ("KIT", 0)], &["B-2"])).unwrap_err();
    // Field formats first (quantity), then the catalog is not consulted.
    assert_eq!(invalid_fields(&e), ["components[1].quantity"]);
    let e = add(&mut b, &draft("A-1", "bundle", &[("NOPE", 1), ("KIT", 1)], &["B-2"])).unwrap_err();
    assert_eq!(invalid_fields(&e), ["sku", "components[0].sku", "components[1].sku", "aliases[0]"]);
}

// Stock edits.

#[test]
fn stock_counts_out_of_range_are_refused() {
    let mut b = books();
    put(&mut b, "A-1", "EAST", 3);
    let at = cx(1);
    let r = refused(&mut b, |b| set_stock(b, "A-1", "EAST", StockTarget::OnHand(-1), None, "t", &at));
    assert_invalid(r, "on_hand", "-1");
    let r = refused(&mut b, |b| set_stock(b, "A-1", "EAST", StockTarget::OnHand(STOCK_MAX + 1), None, "t", &at));
    assert_invalid(r, "on_hand", "within 0..=1000000000");
    let r = refused(&mut b, |b| set_stock(b, "A-1", "EAST", StockTarget::Available(STOCK_MAX + 1), None, "t", &at));
    assert_invalid(r, "available", "1000000000");
    let r = refused(&mut b, |b| adjust_stock(b, "A-1", "EAST", -4, None, "t", &at));
    assert_invalid(r, "delta", "below 0");
    let r = refused(&mut b, |b| adjust_stock(b, "A-1", "EAST", STOCK_MAX, None, "t", &at));
    assert_invalid(r, "delta", "exceed");
    let r = refused(&mut b, |b| adjust_stock(b, "A-1", "EAST", i64::MIN, None, "t", &at));
    assert_invalid(r, "delta", "below 0");
}

#[test]
fn a_negative_available_is_refused_whatever_is_committed() {
    let mut b = books();
    put(&mut b, "A-1", "EAST", 3);
    let at = cx(1);
    let r = refused(&mut b, |b| set_stock(b, "A-1", "EAST", StockTarget::Available(-1), None, "t", &at));
    assert_invalid(r, "available", "-1");
    // With units committed, `committed − 1` would be a valid on_hand: still refused.
    import_order(&mut b, &open(ChannelId(1), "O-1", 1, &[("L1", "A-1", 2)]), &at).unwrap();
    assert_eq!(b.level_of(ItemId(1), b.fcs[0].id).committed, 2);
    let r = refused(&mut b, |b| set_stock(b, "A-1", "EAST", StockTarget::Available(-1), None, "t", &at));
    assert_invalid(r, "available", "-1");
}

#[test]
fn stock_edits_of_unknown_or_bundle_items_are_refused() {
    let mut b = books();
    let at = cx(1);
    let r = refused(&mut b, |b| set_stock(b, "KIT", "EAST", StockTarget::OnHand(1), None, "t", &at));
    assert_invalid(r, "sku", "is a bundle");
    let r = refused(&mut b, |b| adjust_stock(b, "KIT", "EAST", 1, None, "t", &at));
    assert_invalid(r, "sku", "is a bundle");
    let e = refused(&mut b, |b| set_stock(b, "NOPE", "EAST", StockTarget::OnHand(1), None, "t", &at)).unwrap_err();
    assert!(matches!(e, Rejection::NotFound(_)), "{e:?}");
    let e = refused(&mut b, |b| set_stock(b, "A-1", "WEST", StockTarget::OnHand(1), None, "t", &at)).unwrap_err();
    assert!(matches!(e, Rejection::NotFound(_)), "{e:?}");
}
