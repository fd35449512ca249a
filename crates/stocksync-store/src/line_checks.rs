//! The invariant checks that need each order's inline lines, on either
//! backend: the backend reads the rows, `LineChecks` judges them.
//!
//! Committed equals the open allocations; terminal orders hold nothing;
//! each order's ledger nets to what it holds (exactly once); each live line
//! of an open order has allocated + backordered = quantity, its components
//! allocated evenly.

use std::collections::HashMap;

use crate::error::Result;

/// Violations listed in all, across these checks.
const VIOLATIONS_MAX: usize = 80;

#[derive(Debug, Default)]
pub(crate) struct LineChecks {
    out: Vec<String>,
    /// Open units by `(item, fc)`.
    held: HashMap<(i64, i64), i64>,
    /// Open units by `(order, item, fc)`.
    held_by_order: HashMap<(i64, i64, i64), i64>,
}

impl LineChecks {
    fn push(&mut self, name: &str, v: String) {
        if self.out.len() < VIOLATIONS_MAX {
            self.out.push(format!("{name}: {v}"));
        }
    }

    /// One order row: `(id, status, lines)`.
    pub(crate) fn order(&mut self, order: i64, status: &str, text: &str) -> Result<()> {
        let terminal = status == "shipped" || status == "cancelled";
        for l in crate::lines::decode(order, text)? {
            for &(fc, item, quantity, shipped) in &l.allocs {
                if shipped {
                    continue;
                }
                *self.held.entry((item, fc)).or_default() += quantity;
                *self.held_by_order.entry((order, item, fc)).or_default() += quantity;
                if terminal {
                    self.push(
                        "terminal orders hold nothing",
                        format!("order {order} is {status} but holds {quantity} unit(s)"),
                    );
                }
            }
            if terminal || l.removed {
                continue;
            }
            let units: Vec<i64> = l
                .parts
                .iter()
                .map(|&(item, per)| {
                    l.allocs.iter().filter(|a| !a.3 && a.1 == item).map(|a| a.2).sum::<i64>() / i64::from(per.max(1))
                })
                .collect();
            let allocated = units.first().copied().unwrap_or(0);
            if units.iter().any(|u| *u != allocated) {
                self.push(
                    "lines",
                    format!("order {order} line {}: components allocated unevenly {units:?}", l.line_id),
                );
            } else if allocated + i64::from(l.backordered) != i64::from(l.quantity) {
                self.push(
                    "lines",
                    format!(
                        "order {order} line {}: {allocated} allocated + {} backordered ≠ quantity {}",
                        l.line_id, l.backordered, l.quantity
                    ),
                );
            }
        }
        Ok(())
    }

    /// One stock level, after every order: its committed against the open allocations.
    pub(crate) fn level(&mut self, item: i64, fc: i64, sku: &str, code: &str, committed: i64) {
        let open = self.held.remove(&(item, fc)).unwrap_or(0);
        if open != committed {
            self.push(
                "committed = open allocations",
                format!("{sku} at {code}: committed {committed}, open allocations {open}"),
            );
        }
    }

    /// One order's ledger net at one level, after every level.
    pub(crate) fn net(&mut self, order: i64, item: i64, fc: i64, net: i64) {
        let holds = self.held_by_order.remove(&(order, item, fc)).unwrap_or(0);
        if net != holds {
            self.push(
                "exactly once",
                format!("order {order}: ledger nets {net} committed of item {item} at fc {fc} but it holds {holds}"),
            );
        }
    }

    /// What is left: allocations at no level, holdings with no ledger rows.
    pub(crate) fn finish(mut self) -> Vec<String> {
        for ((item, fc), q) in std::mem::take(&mut self.held) {
            self.push(
                "committed = open allocations",
                format!("{q} unit(s) allocated at an unknown level: item {item} fc {fc}"),
            );
        }
        for ((order, item, fc), q) in std::mem::take(&mut self.held_by_order) {
            self.push("exactly once", format!("order {order} holds {q} of item {item} at fc {fc} with no ledger rows"));
        }
        self.out
    }
}
