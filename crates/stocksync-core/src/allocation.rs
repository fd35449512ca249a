//! The allocation rule of PRODUCT.md §3, as a function of values.
//!
//! `allocate` decides which fulfillment centers supply which lines; it reads
//! stock through `Stock` and never changes it. `check_plan` re-derives the
//! rule from a plan and the stock it saw, so tests and `bench allocation` can
//! verify every decision independently of how it was applied.

use std::collections::HashMap;

use crate::values::{FcCode, FcId, ItemId, Sku};

/// A candidate fulfillment center, in priority order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcRef {
    pub id: FcId,
    pub code: FcCode,
}

/// One stock item a line unit consumes: `per_unit` units of `item`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub item: ItemId,
    pub sku: Sku,
    pub per_unit: u32,
}

/// What one line still needs: `units` line units, each made of `parts`.
#[derive(Debug, Clone, Copy)]
pub struct Need<'a> {
    /// 1-based position of the line in its order, for the trace.
    pub line_no: usize,
    /// The SKU the line resolved to (a bundle's own SKU for bundles).
    pub label: &'a str,
    pub parts: &'a [Part],
    pub units: u32,
}

/// Read access to available units.
pub trait Stock {
    fn available(&self, item: ItemId, fc: FcId) -> i64;
}

impl Stock for HashMap<(ItemId, FcId), i64> {
    fn available(&self, item: ItemId, fc: FcId) -> i64 {
        self.get(&(item, fc)).copied().unwrap_or(0)
    }
}

/// Which steps of the rule apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// Step 1, for a new order: the first FC that covers every line takes all.
    pub whole_order_first: bool,
    /// Step 3: a line may be split across FCs.
    pub allow_split: bool,
}

/// The decision for one line: units per FC (indexes into the candidate list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinePlan {
    pub takes: Vec<(usize, u32)>,
    pub backordered: u32,
}

/// The decision for a set of lines, with its human-readable trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub lines: Vec<LinePlan>,
    pub trace: Vec<String>,
}

/// Stock as seen by the allocation in progress: what was there minus what
/// earlier decisions in this plan took.
struct Ledger<'a, S> {
    stock: &'a S,
    taken: HashMap<(ItemId, FcId), i64>,
}

impl<S: Stock> Ledger<'_, S> {
    fn available(&self, item: ItemId, fc: FcId) -> i64 {
        self.stock.available(item, fc) - self.taken.get(&(item, fc)).copied().unwrap_or(0)
    }

    /// Whole line units FC `fc` can supply.
    fn units(&self, parts: &[Part], fc: FcId) -> u32 {
        let units =
            parts.iter().map(|p| self.available(p.item, fc).max(0) / i64::from(p.per_unit.max(1))).min().unwrap_or(0);
        u32::try_from(units).unwrap_or(u32::MAX)
    }

    fn take(&mut self, parts: &[Part], fc: FcId, units: u32) {
        for p in parts {
            *self.taken.entry((p.item, fc)).or_default() += i64::from(units) * i64::from(p.per_unit);
        }
    }
}

/// Applies steps 1–4 of the rule to `needs` with candidates `fcs` (already
/// filtered to active FCs allowed on the channel, sorted by priority then code).
pub fn allocate(needs: &[Need<'_>], fcs: &[FcRef], stock: &impl Stock, mode: Mode) -> Plan {
    let mut ledger = Ledger { stock, taken: HashMap::new() };
    let mut plan = Plan { lines: vec![LinePlan::default(); needs.len()], trace: Vec::new() };
    let mut left: Vec<u32> = needs.iter().map(|n| n.units).collect();
    if needs.iter().all(|n| n.units == 0 || n.parts.is_empty()) {
        return plan;
    }
    if fcs.is_empty() {
        plan.trace.push("no active fulfillment center sells on this channel".to_owned());
    }

    // Step 1: the whole order from one FC, so it ships as one parcel.
    if mode.whole_order_first && !fcs.is_empty() {
        let demand = order_demand(needs);
        let mut whole = None;
        for (i, fc) in fcs.iter().enumerate() {
            match demand.iter().find(|(item, (_, need))| ledger.available(*item, fc.id) < *need) {
                Some((item, (sku, need))) => plan.trace.push(format!(
                    "{} cannot cover the order: {sku} needs {need}, has {}",
                    fc.code,
                    ledger.available(*item, fc.id).max(0)
                )),
                None => {
                    whole = Some(i);
                    break;
                }
            }
        }
        if let Some(i) = whole {
            plan.trace.push(format!("{} covers the whole order", fcs[i].code));
            for (n, need) in needs.iter().enumerate() {
                if need.units > 0 && !need.parts.is_empty() {
                    ledger.take(need.parts, fcs[i].id, need.units);
                    plan.lines[n].takes.push((i, need.units));
                    plan.trace
                        .push(format!("line {} ({} ×{}) → {}", need.line_no, need.label, need.units, fcs[i].code));
                    left[n] = 0;
                }
            }
            return plan;
        }
    }

    // Step 2: each line whole from the first FC that covers it.
    for (n, need) in needs.iter().enumerate() {
        if left[n] == 0 || need.parts.is_empty() {
            continue;
        }
        if let Some(i) = fcs.iter().position(|fc| ledger.units(need.parts, fc.id) >= left[n]) {
            ledger.take(need.parts, fcs[i].id, left[n]);
            plan.lines[n].takes.push((i, left[n]));
            plan.trace.push(format!("line {} ({} ×{}) → {}", need.line_no, need.label, left[n], fcs[i].code));
            left[n] = 0;
        }
    }

    // Step 3: split what is left greedily in priority order; step 4: backorder the rest.
    for (n, need) in needs.iter().enumerate() {
        if left[n] == 0 || need.parts.is_empty() {
            continue;
        }
        let wanted = left[n];
        let mut pieces = Vec::new();
        if mode.allow_split {
            for (i, fc) in fcs.iter().enumerate() {
                let t = ledger.units(need.parts, fc.id).min(left[n]);
                if t > 0 {
                    ledger.take(need.parts, fc.id, t);
                    plan.lines[n].takes.push((i, t));
                    pieces.push(format!("{} {t}", fc.code));
                    left[n] -= t;
                }
                if left[n] == 0 {
                    break;
                }
            }
        }
        let head = format!("line {} ({} ×{wanted})", need.line_no, need.label);
        let split = if pieces.is_empty() { String::new() } else { format!("split {}; ", pieces.join(" + ")) };
        if left[n] == 0 {
            plan.trace.push(format!("{head}: no single FC covers it; split {}", pieces.join(" + ")));
        } else {
            let why = if mode.allow_split || fcs.is_empty() {
                "not enough stock in any FC"
            } else {
                "no single FC covers it and splitting is off for this channel"
            };
            plan.trace.push(format!("{head}: {split}{} backordered ({why})", left[n]));
        }
        plan.lines[n].backordered = left[n];
    }
    plan
}

/// Total units of each item the order needs, keyed by item, with its SKU.
fn order_demand(needs: &[Need<'_>]) -> Vec<(ItemId, (String, i64))> {
    let mut demand: Vec<(ItemId, (String, i64))> = Vec::new();
    for need in needs {
        for p in need.parts {
            let units = i64::from(need.units) * i64::from(p.per_unit);
            match demand.iter_mut().find(|(item, _)| *item == p.item) {
                Some((_, (_, total))) => *total += units,
                None => demand.push((p.item, (p.sku.as_str().to_owned(), units))),
            }
        }
    }
    demand
}

/// Verifies that `plan` is exactly what §3 prescribes for `needs` over
/// `stock`, re-deriving each decision from the plan itself. Returns the
/// first violation found.
pub fn check_plan(
    needs: &[Need<'_>],
    fcs: &[FcRef],
    stock: &impl Stock,
    mode: Mode,
    plan: &Plan,
) -> Result<(), String> {
    if plan.lines.len() != needs.len() {
        return Err(format!("plan has {} lines for {} needs", plan.lines.len(), needs.len()));
    }
    let mut used: HashMap<(ItemId, FcId), i64> = HashMap::new();
    for (need, lp) in needs.iter().zip(&plan.lines) {
        let taken: u32 = lp.takes.iter().map(|t| t.1).sum();
        let expected = if need.parts.is_empty() { 0 } else { need.units };
        if taken + lp.backordered != expected {
            return Err(format!("line {}: {taken} taken + {} backordered ≠ {expected}", need.line_no, lp.backordered));
        }
        for &(i, units) in &lp.takes {
            for p in need.parts {
                *used.entry((p.item, fcs[i].id)).or_default() += i64::from(units) * i64::from(p.per_unit);
            }
        }
    }
    for (&(item, fc), &u) in &used {
        if u > stock.available(item, fc) {
            return Err(format!("item {item:?} overdrawn at {fc:?}: took {u}, had {}", stock.available(item, fc)));
        }
    }
    let mut ledger = Ledger { stock, taken: HashMap::new() };
    if mode.whole_order_first {
        let demand = order_demand(needs);
        let covering =
            fcs.iter().position(|fc| demand.iter().all(|(item, (_, n))| ledger.available(*item, fc.id) >= *n));
        let mapped = needs.iter().any(|n| n.units > 0 && !n.parts.is_empty());
        if let (Some(i), true) = (covering, mapped) {
            for (need, lp) in needs.iter().zip(&plan.lines) {
                if !need.parts.is_empty() && need.units > 0 && lp.takes != [(i, need.units)] {
                    return Err(format!(
                        "line {}: {} covers the whole order, but the plan is {:?}",
                        need.line_no, fcs[i].code, lp.takes
                    ));
                }
            }
            return Ok(());
        }
    }
    let mut split_lines = Vec::new();
    for (n, (need, lp)) in needs.iter().zip(&plan.lines).enumerate() {
        if need.parts.is_empty() || need.units == 0 {
            continue;
        }
        let first = fcs.iter().position(|fc| ledger.units(need.parts, fc.id) >= need.units);
        match (first, lp.takes.as_slice()) {
            (Some(i), [(j, u)]) if i == *j && *u == need.units => ledger.take(need.parts, fcs[i].id, need.units),
            (Some(i), _) => {
                return Err(format!(
                    "line {}: {} covers it first, but the plan is {:?}",
                    need.line_no, fcs[i].code, lp.takes
                ));
            }
            (None, _) => split_lines.push(n),
        }
    }
    for n in split_lines {
        let (need, lp) = (&needs[n], &plan.lines[n]);
        let mut left = need.units;
        let mut expected = Vec::new();
        if mode.allow_split {
            for (i, fc) in fcs.iter().enumerate() {
                let t = ledger.units(need.parts, fc.id).min(left);
                if t > 0 {
                    ledger.take(need.parts, fc.id, t);
                    expected.push((i, t));
                    left -= t;
                }
            }
        }
        if lp.takes != expected || lp.backordered != left {
            return Err(format!(
                "line {}: the greedy split is {expected:?} with {left} backordered, the plan is {:?} with {}",
                need.line_no, lp.takes, lp.backordered
            ));
        }
    }
    Ok(())
}
