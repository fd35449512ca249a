//! Orders as the workflow sees them: incoming (from a channel) and stored.

use crate::allocation::Part;
use crate::error::{FieldError, Rejection};
use crate::time::Timestamp;
use crate::values::{ChannelId, FcId, ItemId, LineKey, OrderId, Quantity, Sku, external_id};

/// Most lines one order may have. Real orders have a handful; this bounds the
/// work one import can cause.
pub const ORDER_LINES_MAX: usize = 500;

/// What the channel says about the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceStatus {
    Open,
    Shipped,
    Cancelled,
}

impl SourceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Shipped => "shipped",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw {
            "open" => Ok(Self::Open),
            "shipped" => Ok(Self::Shipped),
            "cancelled" => Ok(Self::Cancelled),
            other => {
                Err(FieldError::new(field, format!("must be \"open\", \"shipped\" or \"cancelled\", got {other:?}")))
            }
        }
    }
}

/// The order's state in stocksync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    Allocated,
    Backordered,
    NeedsAttention,
    Shipped,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allocated => "allocated",
            Self::Backordered => "backordered",
            Self::NeedsAttention => "needs_attention",
            Self::Shipped => "shipped",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Allocated, Self::Backordered, Self::NeedsAttention, Self::Shipped, Self::Cancelled]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// Shipped and cancelled orders hold no stock and take none.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Shipped | Self::Cancelled)
    }
}

/// One line of an incoming order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingLine {
    pub line_id: String,
    pub channel_sku: String,
    pub quantity: u32,
}

/// An order as a channel reports it, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingOrder {
    pub channel: ChannelId,
    pub external_id: String,
    pub status: SourceStatus,
    pub placed_at: Timestamp,
    /// The channel's last-modified time. When present, an older version
    /// than the one already imported is ignored (late or replayed pages).
    pub updated_at: Option<Timestamp>,
    pub lines: Vec<IncomingLine>,
}

/// An incoming line before validation: `(line_id, channel_sku, quantity)`.
pub type RawLine = (String, String, i64);

impl IncomingOrder {
    /// Validates every field, reporting every problem with its path.
    pub fn new(
        channel: ChannelId,
        external: &str,
        status: SourceStatus,
        placed_at: Timestamp,
        updated_at: Option<Timestamp>,
        lines: &[RawLine],
    ) -> Result<Self, Rejection> {
        let mut errors = Vec::new();
        let external_id = external_id("external_id", external).map_err(|e| errors.push(e)).unwrap_or_default();
        if lines.is_empty() {
            errors.push(FieldError::new("lines", "an order needs at least one line"));
        }
        if lines.len() > ORDER_LINES_MAX {
            errors.push(FieldError::new("lines", format!("at most {ORDER_LINES_MAX} lines, got {}", lines.len())));
        }
        let mut parsed = Vec::with_capacity(lines.len());
        for (i, (line_id, channel_sku, quantity)) in lines.iter().enumerate() {
            let path = format!("lines[{i}]");
            let id = crate::values::external_id("line_id", line_id).map_err(|e| errors.push(e.within(&path)));
            if id.is_ok() && lines[..i].iter().any(|l| &l.0 == line_id) {
                errors.push(FieldError::new(format!("{path}.line_id"), format!("{line_id:?} appears twice")));
            }
            let sku = Sku::parse_field("channel_sku", channel_sku).map_err(|e| errors.push(e.within(&path)));
            let q = Quantity::new_field("quantity", *quantity).map_err(|e| errors.push(e.within(&path)));
            if let (Ok(line_id), Ok(sku), Ok(q)) = (id, sku, q) {
                parsed.push(IncomingLine { line_id, channel_sku: sku.as_str().to_owned(), quantity: q.get() });
            }
        }
        if !errors.is_empty() {
            return Err(Rejection::Invalid(errors));
        }
        Ok(Self { channel, external_id, status, placed_at, updated_at, lines: parsed })
    }

    /// When, by the channel's clock, this version of the order came about:
    /// its last-modified time, else its placement. The quantities it
    /// changes are stale on every other channel since then.
    pub fn version_at(&self) -> Timestamp {
        self.updated_at.unwrap_or(self.placed_at)
    }
}

/// Units of one stock item allocated to a line at one FC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alloc {
    pub fc: FcId,
    pub item: ItemId,
    pub quantity: i64,
    /// Shipped allocations are history: they no longer count as committed.
    pub shipped: bool,
}

/// A stored order line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub key: Option<LineKey>,
    pub line_id: String,
    pub channel_sku: String,
    /// The item the line resolved to; `None` while unmapped.
    pub item: Option<ItemId>,
    pub sku: Option<Sku>,
    /// What one unit of the line consumes, fixed when the line was mapped:
    /// the item itself, or a bundle's components at that time.
    pub parts: Vec<Part>,
    /// Units ordered, as last reported by the channel.
    pub quantity: u32,
    /// Units not allocated (all of them while unmapped).
    pub backordered: u32,
    /// The channel removed the line; it holds nothing.
    pub removed: bool,
    pub allocs: Vec<Alloc>,
    /// Changed since loaded; the store rewrites dirty lines only.
    pub dirty: bool,
}

impl Line {
    pub fn is_mapped(&self) -> bool {
        !self.parts.is_empty()
    }

    /// Line units allocated (open) at `fc`.
    pub fn units_at(&self, fc: FcId) -> u32 {
        let Some(first) = self.parts.first() else { return 0 };
        let q: i64 =
            self.allocs.iter().filter(|a| !a.shipped && a.fc == fc && a.item == first.item).map(|a| a.quantity).sum();
        u32::try_from(q / i64::from(first.per_unit.max(1))).unwrap_or(0)
    }

    /// Line units allocated (open) at any FC.
    pub fn allocated_units(&self) -> u32 {
        let Some(first) = self.parts.first() else { return 0 };
        let q: i64 = self.allocs.iter().filter(|a| !a.shipped && a.item == first.item).map(|a| a.quantity).sum();
        u32::try_from(q / i64::from(first.per_unit.max(1))).unwrap_or(0)
    }

    /// FCs holding open allocations for this line.
    pub fn open_fcs(&self) -> Vec<FcId> {
        let mut fcs: Vec<FcId> = self.allocs.iter().filter(|a| !a.shipped).map(|a| a.fc).collect();
        fcs.sort();
        fcs.dedup();
        fcs
    }
}

/// A stored order with its lines and allocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    /// Not yet written: the store inserts rather than updates.
    pub is_new: bool,
    pub channel: ChannelId,
    pub external_id: String,
    pub status: OrderStatus,
    pub source_status: SourceStatus,
    pub placed_at: Timestamp,
    pub source_updated_at: Option<Timestamp>,
    pub imported_at: Timestamp,
    pub updated_at: Timestamp,
    pub lines: Vec<Line>,
    /// Trace entries added by this operation; the store appends them.
    pub new_trace: Vec<String>,
}

impl Order {
    /// The reference movements carry: `order:<id>`.
    pub fn reference(&self) -> String {
        format!("order:{}", self.id.0)
    }

    /// The status its lines imply, unless it is shipped or cancelled.
    pub fn derived_status(&self) -> OrderStatus {
        if self.status.is_terminal() {
            return self.status;
        }
        let live = || self.lines.iter().filter(|l| !l.removed);
        if live().any(|l| !l.is_mapped()) {
            OrderStatus::NeedsAttention
        } else if live().any(|l| l.backordered > 0) {
            OrderStatus::Backordered
        } else {
            OrderStatus::Allocated
        }
    }

    /// Whether the order's content equals what the channel now reports.
    pub fn same_content(&self, inc: &IncomingOrder) -> bool {
        let live: Vec<&Line> = self.lines.iter().filter(|l| !l.removed).collect();
        self.source_status == inc.status
            && live.len() == inc.lines.len()
            && inc.lines.iter().all(|il| {
                live.iter()
                    .any(|l| l.line_id == il.line_id && l.channel_sku == il.channel_sku && l.quantity == il.quantity)
            })
    }
}
