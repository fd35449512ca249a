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

/// An answer kept for an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// Hash of the request (method, path, body) that produced it.
    pub fingerprint: String,
    pub status: u16,
    pub body: Vec<u8>,
}

impl StoredResponse {
    /// The status of a placeholder: the request's change is committed, its
    /// answer not yet stored (`Store::adjust_stock_once`).
    pub const APPLIED: u16 = 0;
}

/// An `Idempotency-Key` request, named to the store so that a change is
/// made once per key (`Store::adjust_stock_once`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    pub scope: String,
    pub key: String,
    pub fingerprint: String,
}

/// A channel with its settings; credentials are never read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelView {
    pub id: i64,
    pub name: String,
    pub kind: stocksync_core::channel::ChannelKind,
    pub base_url: Option<String>,
    pub settings: stocksync_core::channel::ChannelSettings,
    pub has_credentials: bool,
    pub last_import_at: Option<Timestamp>,
    pub last_import_error: Option<String>,
    pub created_at: Timestamp,
}

/// A listing with the quantity it should show and its push state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingView {
    pub channel: i64,
    pub channel_sku: String,
    pub sku: Option<String>,
    pub external_id: Option<String>,
    pub overrides: stocksync_core::push::PushOverrides,
    pub quantity: Option<i64>,
    pub last_pushed_quantity: Option<i64>,
    pub last_pushed_at: Option<Timestamp>,
    pub state: &'static str,
}

/// Filters of the order list; all optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub channel: Option<i64>,
    pub status: Option<String>,
    pub fc: Option<String>,
    pub sku: Option<String>,
    pub placed_after: Option<Timestamp>,
    pub placed_before: Option<Timestamp>,
    /// Continue after this `(placed_at, id)`, newest first.
    pub before: Option<(Timestamp, i64)>,
}

/// Filters of the level list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LevelFilter {
    pub fc: Option<String>,
    pub sku_prefix: Option<String>,
    pub available_below: Option<i64>,
    /// Continue after this `(sku, fc)`.
    pub after: Option<(String, String)>,
}

/// Filters of the movement list, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MovementFilter {
    pub sku: Option<String>,
    pub fc: Option<String>,
    pub order: Option<i64>,
    pub after_id: Option<i64>,
}

/// One channel's import and push health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatusView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub import_orders: bool,
    pub last_import_at: Option<Timestamp>,
    pub last_import_error: Option<String>,
    pub pending_pushes: i64,
    pub failed_pushes: i64,
}

/// One listing's value waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuePush {
    pub listing_id: i64,
    pub channel_sku: String,
    pub sku: String,
    pub external_id: Option<String>,
    pub quantity: i64,
    pub version: i64,
    /// When the oldest change behind this value was marked (push latency
    /// counts from here).
    pub since: Timestamp,
    pub attempts: i64,
    /// When the channel's quantity went stale: the marketplace's time of
    /// the order behind the oldest change, else `since`. Claims go by this.
    pub stale_since: Timestamp,
}

/// What `take_push_queue` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Taken {
    pub queue_rows: usize,
    pub listings_marked: usize,
}

/// A web UI user, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserView {
    pub name: String,
    pub role: stocksync_core::auth::Role,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

/// A listing whose latest value the channel has not accepted yet, after a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedPushView {
    pub channel: i64,
    pub channel_sku: String,
    pub quantity: i64,
    pub attempts: i64,
    pub error: String,
    pub next_attempt_at: Timestamp,
}

/// A listing's last accepted push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedView {
    pub channel: i64,
    pub channel_sku: String,
    pub quantity: i64,
    pub at: Timestamp,
}

/// What a SKU names in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkuKind {
    Unknown,
    Stock,
    Bundle,
    /// An alias of the item with this SKU.
    AliasOf(String),
}

/// One stock level as exported: `fc_id` is the keyset cursor's second part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelRow {
    pub sku: String,
    pub fc: String,
    pub fc_id: i64,
    pub on_hand: i64,
}

/// One listing as exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingRow {
    pub channel_id: i64,
    pub channel: String,
    pub channel_sku: String,
    pub sku: Option<String>,
    pub external_id: Option<String>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowAction {
    Created,
    Updated,
    Unchanged,
}

impl RowAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
        }
    }
}
