//! `Books`: the state the workflow reads and writes, as a trait.
//!
//! The workflow (`workflow.rs`) is written once against this trait. The store
//! implements it over SQL inside one transaction; `mem::MemBooks` implements
//! it in memory as the reference model for tests. Implementations do no
//! domain reasoning: they load, save, and keep indexes.

use crate::allocation::{FcRef, Part};
use crate::error::Rejection;
use crate::order::Order;
use crate::time::Timestamp;
use crate::values::{ChannelId, FcId, ItemId, OrderId, Sku};

/// Per (stock item, FC) counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Level {
    pub on_hand: i64,
    pub committed: i64,
}

impl Level {
    pub fn available(self) -> i64 {
        self.on_hand - self.committed
    }
}

/// The channel settings the workflow needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRules {
    pub name: String,
    pub import_orders: bool,
    pub allow_split: bool,
    /// Candidate FCs: active, allowed on the channel, sorted by (priority, code).
    pub fcs: Vec<FcRef>,
}

/// A channel SKU resolved to an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub item: ItemId,
    pub sku: Sku,
    /// The item itself ×1 for a stock item; the components for a bundle.
    pub parts: Vec<Part>,
}

/// One change of `on_hand` and/or `committed` of one (item, FC): one ledger row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement<'a> {
    pub item: ItemId,
    pub fc: FcId,
    pub on_hand_delta: i64,
    pub committed_delta: i64,
    pub reason: &'a str,
    pub reference: &'a str,
    pub actor: &'a str,
    pub at: Timestamp,
}

/// Ledger reasons.
pub mod reason {
    pub const ALLOCATED: &str = "order_allocated";
    pub const RELEASED: &str = "order_released";
    pub const SHIPPED: &str = "order_shipped";
    pub const SET: &str = "set";
    pub const ADJUSTED: &str = "adjusted";
    pub const CORRECTION: &str = "count_correction";
}

/// A position in the oldest-first queue of backordered orders.
pub type QueuePos = (Timestamp, OrderId);

pub trait Books {
    /// The implementation's error; a domain rejection converts into it.
    type Error: From<Rejection>;

    /// The channel's rules; `Rejection::NotFound` if there is no such channel.
    fn channel_rules(&mut self, channel: ChannelId) -> Result<ChannelRules, Self::Error>;
    /// Resolves a channel SKU: listing mapping, else exact SKU, else alias.
    /// When it resolves other than through a listing, the listing is created
    /// (PRODUCT.md: a listing is created the first time a line resolves).
    fn resolve(&mut self, channel: ChannelId, channel_sku: &str) -> Result<Option<Resolved>, Self::Error>;
    /// A stock item by SKU; `Rejection` if unknown or a bundle.
    fn stock_item(&mut self, sku: &str) -> Result<ItemId, Self::Error>;
    /// A fulfillment center by code; `Rejection::NotFound` if unknown.
    fn fc(&mut self, code: &str) -> Result<FcRef, Self::Error>;

    fn level(&mut self, item: ItemId, fc: FcId) -> Result<Level, Self::Error>;
    /// Sum of `available` over all FCs of a stock item.
    fn total_available(&mut self, item: ItemId) -> Result<i64, Self::Error>;
    /// Applies a movement: updates the level, appends the ledger row, and
    /// marks for a push every listing whose quantity may change (the item and
    /// every bundle containing it, on every channel). Returns the level after.
    fn apply_movement(&mut self, m: &Movement<'_>) -> Result<Level, Self::Error>;

    /// A fresh order id, never used before.
    fn new_order_id(&mut self) -> Result<OrderId, Self::Error>;
    fn find_order(&mut self, channel: ChannelId, external_id: &str) -> Result<Option<Order>, Self::Error>;
    fn load_order(&mut self, id: OrderId) -> Result<Option<Order>, Self::Error>;
    /// Writes the order: its header, its dirty lines with their allocations,
    /// and the new trace entries. Clears `is_new`, dirty flags and `new_trace`.
    fn save_order(&mut self, order: &mut Order) -> Result<(), Self::Error>;

    /// The first open order after `after` (oldest first by placed time, then
    /// id) with a backordered line that needs `item`.
    fn next_backordered(&mut self, item: ItemId, after: Option<QueuePos>) -> Result<Option<QueuePos>, Self::Error>;
    /// Open orders with an unmapped line for `channel_sku` (on `channel`, or on any channel).
    fn unmapped_orders(&mut self, channel: Option<ChannelId>, channel_sku: &str) -> Result<Vec<OrderId>, Self::Error>;
    /// Open orders with open allocations of `item` at `fc`, newest first
    /// (by placed time, then id). It may also name open orders that no
    /// longer hold any there; the workflow skips those.
    fn orders_holding(&mut self, item: ItemId, fc: FcId) -> Result<Vec<OrderId>, Self::Error>;
}
