//! What the store returns: plain values shaped like the API's resources.

use stocksync_core::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcView {
    pub code: String,
    pub name: String,
    pub priority: i64,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentView {
    pub sku: String,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemView {
    pub sku: String,
    pub title: String,
    pub kind: String,
    pub components: Vec<ComponentView>,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub on_hand: i64,
    pub committed: i64,
    pub available: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelView {
    pub sku: String,
    pub fc: String,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingQuantity {
    pub channel: i64,
    pub channel_sku: String,
    /// What the listing should show now (PRODUCT.md §4).
    pub quantity: i64,
    pub last_pushed_quantity: Option<i64>,
    pub last_pushed_at: Option<Timestamp>,
    /// `in_sync`, `pending` or `failed`.
    pub state: &'static str,
}

/// One item's stock: for a bundle, buildable counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryView {
    pub sku: String,
    pub kind: String,
    pub totals: Counts,
    pub levels: Vec<(String, Counts)>,
    pub listings: Vec<ListingQuantity>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationView {
    pub fc: String,
    pub sku: String,
    pub quantity: i64,
    pub shipped: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineView {
    pub line_id: String,
    pub channel_sku: String,
    pub sku: Option<String>,
    pub quantity: u32,
    pub backordered: u32,
    pub removed: bool,
    pub allocations: Vec<AllocationView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    pub id: i64,
    pub channel: i64,
    pub external_id: String,
    pub status: String,
    pub placed_at: Timestamp,
    pub imported_at: Timestamp,
    pub updated_at: Timestamp,
    pub fulfillment_centers: Vec<String>,
    pub lines: Vec<LineView>,
    pub trace: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovementView {
    pub id: i64,
    pub at: Timestamp,
    pub sku: String,
    pub fc: String,
    pub on_hand_delta: i64,
    pub committed_delta: i64,
    pub on_hand_after: i64,
    pub committed_after: i64,
    pub reason: String,
    pub reference: String,
    pub actor: String,
}

/// Totals over all orders, for benchmarks and summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OrderStats {
    pub orders: i64,
    pub lines: i64,
    /// Units allocated, open or shipped, in line units.
    pub allocated_units: i64,
    pub backordered_units: i64,
    /// Units committed beyond on-hand stock, summed over levels: must be 0.
    pub oversold_units: i64,
}

/// An API token, without its secret (which is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenView {
    pub name: String,
    pub role: stocksync_core::auth::Role,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}
