//! What the marketplace simulators share on their control side: the body of
//! `POST /_sim/orders` (create, change, cancel or ship an order), its answer,
//! where webhooks go, and a last-modified clock that never repeats a value.

use serde::{Deserialize, Serialize};

use crate::clock::Clock;

/// `POST /_sim/orders`: with no `id` a new order with `lines`; with an `id`,
/// a change to that order: each listed SKU's line is set to the new
/// quantity (a new SKU adds a line), then `cancel` or `ship` if asked.
/// Every change moves the order's last-modified time forward.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderChange {
    pub id: Option<String>,
    #[serde(default)]
    pub lines: Vec<LineChange>,
    #[serde(default)]
    pub cancel: bool,
    #[serde(default)]
    pub ship: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineChange {
    pub sku: String,
    pub quantity: u32,
}

impl OrderChange {
    pub fn create(lines: &[(&str, u32)]) -> Self {
        let lines = lines.iter().map(|&(sku, quantity)| LineChange { sku: sku.into(), quantity }).collect();
        Self { lines, ..Self::default() }
    }

    pub fn modify(id: &str) -> Self {
        Self { id: Some(id.into()), ..Self::default() }
    }

    pub fn set_line(mut self, sku: &str, quantity: u32) -> Self {
        self.lines.push(LineChange { sku: sku.into(), quantity });
        self
    }

    pub fn cancel(mut self) -> Self {
        self.cancel = true;
        self
    }

    pub fn ship(mut self) -> Self {
        self.ship = true;
        self
    }
}

/// The answer to `POST /_sim/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAck {
    pub id: String,
    /// The order's new last-modified time, in milliseconds since the epoch.
    pub updated_at_ms: i64,
}

/// A last-modified clock: the system time (or a test's clock), but always
/// at least 1 ms after the previous reading, so every change is a distinct,
/// newer version.
#[derive(Debug, Clone, Default)]
pub struct ModClock {
    last_ms: i64,
    clock: Clock,
}

impl ModClock {
    /// Reads `clock` from now on; what was stamped stays older.
    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    pub fn tick(&mut self) -> i64 {
        self.last_ms = self.clock.now().millis().max(self.last_ms + 1);
        self.last_ms
    }
}

/// `POST /_sim/webhooks`: where order webhooks go, and the secret signing them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookTarget {
    pub url: String,
    pub secret: String,
}

/// Why a control request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlError(pub String);
