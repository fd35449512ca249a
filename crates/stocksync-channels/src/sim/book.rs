//! The order book the Amazon, Etsy, WooCommerce and Walmart simulators
//! share: orders as a marketplace keeps them, changed by `OrderChange`,
//! rendered by each simulator in its own shape.

use std::collections::BTreeMap;

use super::control::{ControlError, ModClock, OrderChange};
use crate::clock::Clock;

#[derive(Debug, Default)]
pub struct Book {
    pub orders: BTreeMap<u64, BookOrder>,
    clock: ModClock,
    next_order: u64,
    next_line: u64,
}

#[derive(Debug, Clone)]
pub struct BookOrder {
    pub id: u64,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub cancelled_ms: Option<i64>,
    pub shipped: bool,
    pub lines: Vec<BookLine>,
}

#[derive(Debug, Clone)]
pub struct BookLine {
    /// 1, 2, … within the order (Walmart's `lineNumber`); `id` is unique in the book.
    pub number: u32,
    pub id: u64,
    pub sku: String,
    /// Units first ordered; a later change lowering the line keeps this.
    pub ordered: u32,
    /// Units still ordered.
    pub current: u32,
}

impl BookLine {
    /// Units removed from the line (cancelled) since it was ordered.
    pub fn removed(&self) -> u32 {
        self.ordered - self.current
    }
}

/// What `Book::apply` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub id: u64,
    pub at_ms: i64,
    pub created: bool,
}

impl Book {
    /// Stamps changes from here on with `clock` instead of the system's.
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock.set_clock(clock);
    }

    /// Creates or changes an order (see `OrderChange`); orders are numbered
    /// from 1, lines from 1 across the book.
    pub fn apply(&mut self, change: OrderChange) -> Result<Applied, ControlError> {
        let now = self.clock.tick();
        let (id, created) = match change.id.as_deref() {
            None => {
                self.next_order += 1;
                let id = self.next_order;
                let order = BookOrder {
                    id,
                    created_ms: now,
                    modified_ms: now,
                    cancelled_ms: None,
                    shipped: false,
                    lines: vec![],
                };
                self.orders.insert(id, order);
                (id, true)
            }
            Some(raw) => (raw.parse().map_err(|_| ControlError(format!("no order {raw}")))?, false),
        };
        let mut next_line = self.next_line;
        let order = self.orders.get_mut(&id).ok_or_else(|| ControlError(format!("no order {id}")))?;
        for l in change.lines {
            match order.lines.iter_mut().find(|x| x.sku == l.sku) {
                Some(line) => {
                    line.ordered = line.ordered.max(l.quantity);
                    line.current = l.quantity;
                }
                None => {
                    next_line += 1;
                    let number = u32::try_from(order.lines.len() + 1).unwrap_or(u32::MAX);
                    let line = BookLine { number, id: next_line, sku: l.sku, ordered: l.quantity, current: l.quantity };
                    order.lines.push(line);
                }
            }
        }
        if change.cancel {
            order.cancelled_ms = Some(now);
        }
        order.shipped |= change.ship;
        order.modified_ms = now;
        self.next_line = next_line;
        Ok(Applied { id, at_ms: now, created })
    }

    /// Orders modified in `[from_ms, to_ms]`, oldest modification first.
    pub fn modified_between(&self, from_ms: i64, to_ms: i64) -> Vec<BookOrder> {
        let mut orders: Vec<BookOrder> =
            self.orders.values().filter(|o| (from_ms..=to_ms).contains(&o.modified_ms)).cloned().collect();
        orders.sort_by_key(|o| (o.modified_ms, o.id));
        orders
    }
}
