//! How an order's lines and allocations are stored inline in `orders.lines`:
//! a compact JSON array, one object per line. Ids only; names are joined in
//! when read for display.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};

/// One line as stored. Short keys: this text is written once per order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLine {
    #[serde(rename = "id")]
    pub line_id: String,
    #[serde(rename = "cs")]
    pub channel_sku: String,
    #[serde(rename = "it", default, skip_serializing_if = "Option::is_none")]
    pub item: Option<i64>,
    /// What one unit consumes, fixed when the line was mapped: `(item, per_unit)`.
    #[serde(rename = "p", default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<(i64, u32)>,
    #[serde(rename = "q")]
    pub quantity: u32,
    #[serde(rename = "bo")]
    pub backordered: u32,
    #[serde(rename = "rm", default, skip_serializing_if = "is_false")]
    pub removed: bool,
    /// `(fc, item, quantity, shipped)`.
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty")]
    pub allocs: Vec<(i64, i64, i64, bool)>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

pub fn encode(lines: &[StoredLine]) -> Result<String> {
    serde_json::to_string(lines).map_err(|e| StoreError::Internal(format!("cannot encode order lines: {e}")))
}

pub fn decode(order: i64, text: &str) -> Result<Vec<StoredLine>> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Internal(format!("order {order}: stored lines are invalid: {e}")))
}

/// An order's lines in their stored form.
pub fn stored(o: &stocksync_core::order::Order) -> Vec<StoredLine> {
    o.lines
        .iter()
        .map(|l| StoredLine {
            line_id: l.line_id.clone(),
            channel_sku: l.channel_sku.clone(),
            item: l.item.map(|i| i.0),
            parts: l.parts.iter().map(|p| (p.item.0, p.per_unit)).collect(),
            quantity: l.quantity,
            backordered: l.backordered,
            removed: l.removed,
            allocs: l.allocs.iter().map(|a| (a.fc.0, a.item.0, a.quantity, a.shipped)).collect(),
        })
        .collect()
}

/// `(units, backordered)` over the order's live mapped lines: the summary columns.
pub fn totals(o: &stocksync_core::order::Order) -> (i64, i64) {
    let live = || o.lines.iter().filter(|l| !l.removed && l.is_mapped());
    (live().map(|l| i64::from(l.quantity)).sum(), live().map(|l| i64::from(l.backordered)).sum())
}

/// An order row as stored, before its lines are decoded.
#[derive(Debug, Clone)]
pub struct OrderRow {
    pub id: i64,
    pub channel: i64,
    pub external_id: String,
    pub status: String,
    pub source_status: String,
    pub placed_at: i64,
    pub source_updated_at: Option<i64>,
    pub imported_at: i64,
    pub updated_at: i64,
    pub lines: String,
}

impl OrderRow {
    /// The domain order, naming each item through `sku_of`.
    pub fn decode(
        self,
        mut sku_of: impl FnMut(stocksync_core::ItemId) -> Result<stocksync_core::Sku>,
    ) -> Result<stocksync_core::order::Order> {
        use stocksync_core::allocation::Part;
        use stocksync_core::order::{Alloc, Line, Order, OrderStatus, SourceStatus};
        use stocksync_core::{ChannelId, FcId, ItemId, LineKey, OrderId, Timestamp};
        let id = self.id;
        let bad = |what: &str| StoreError::Internal(format!("order {id}: stored {what} is invalid"));
        let mut lines = Vec::new();
        for (pos, l) in decode(id, &self.lines)?.into_iter().enumerate() {
            let parts = l
                .parts
                .iter()
                .map(|&(item, per_unit)| Ok(Part { item: ItemId(item), sku: sku_of(ItemId(item))?, per_unit }))
                .collect::<Result<Vec<_>>>()?;
            let sku = l.item.map(|i| sku_of(ItemId(i))).transpose()?;
            let allocs = l
                .allocs
                .iter()
                .map(|&(fc, item, quantity, shipped)| Alloc { fc: FcId(fc), item: ItemId(item), quantity, shipped })
                .collect();
            lines.push(Line {
                key: Some(LineKey(pos as i64)),
                line_id: l.line_id,
                channel_sku: l.channel_sku,
                item: l.item.map(ItemId),
                sku,
                parts,
                quantity: l.quantity,
                backordered: l.backordered,
                removed: l.removed,
                allocs,
                dirty: false,
            });
        }
        Ok(Order {
            id: OrderId(id),
            is_new: false,
            channel: ChannelId(self.channel),
            external_id: self.external_id,
            status: OrderStatus::parse(&self.status).ok_or_else(|| bad("status"))?,
            source_status: SourceStatus::parse("source_status", &self.source_status)
                .map_err(|_| bad("source status"))?,
            placed_at: Timestamp(self.placed_at),
            source_updated_at: self.source_updated_at.map(Timestamp),
            imported_at: Timestamp(self.imported_at),
            updated_at: Timestamp(self.updated_at),
            lines,
            new_trace: Vec::new(),
        })
    }
}

/// Where display names come from while stored lines become views: each
/// backend answers these from its connection (caching as it likes).
pub(crate) trait NameLookup {
    fn sku(&mut self, item: i64) -> Result<String>;
    /// `(priority, code)`.
    fn fc(&mut self, fc: i64) -> Result<(i64, String)>;
}

/// Item SKUs and FC codes by id, each looked up once per read.
#[derive(Debug, Default)]
pub(crate) struct NameCache {
    skus: std::collections::HashMap<i64, String>,
    fcs: std::collections::HashMap<i64, (i64, String)>,
}

impl NameCache {
    pub(crate) fn sku(&mut self, item: i64, load: impl FnOnce(i64) -> Result<String>) -> Result<String> {
        if let Some(s) = self.skus.get(&item) {
            return Ok(s.clone());
        }
        let s = load(item)?;
        self.skus.insert(item, s.clone());
        Ok(s)
    }

    pub(crate) fn fc(&mut self, fc: i64, load: impl FnOnce(i64) -> Result<(i64, String)>) -> Result<(i64, String)> {
        if let Some(f) = self.fcs.get(&fc) {
            return Ok(f.clone());
        }
        let f = load(fc)?;
        self.fcs.insert(fc, f.clone());
        Ok(f)
    }
}

/// An order's stored lines as views, with the codes of the FCs it holds
/// units at, by priority. Allocations are listed by (FC priority, FC, SKU).
pub(crate) fn views(
    order: i64,
    text: &str,
    names: &mut impl NameLookup,
) -> Result<(Vec<crate::views::LineView>, Vec<String>)> {
    use crate::views::{AllocationView, LineView};
    let mut lines = Vec::new();
    let mut fcs: Vec<(i64, String)> = Vec::new();
    for l in decode(order, text)? {
        let mut allocations = Vec::with_capacity(l.allocs.len());
        for &(fc, item, quantity, shipped) in &l.allocs {
            let (priority, code) = names.fc(fc)?;
            if !fcs.iter().any(|(_, c)| c == &code) {
                fcs.push((priority, code.clone()));
            }
            allocations.push((priority, AllocationView { fc: code, sku: names.sku(item)?, quantity, shipped }));
        }
        allocations.sort_by(|a, b| (a.0, &a.1.fc, &a.1.sku).cmp(&(b.0, &b.1.fc, &b.1.sku)));
        lines.push(LineView {
            line_id: l.line_id,
            channel_sku: l.channel_sku,
            sku: l.item.map(|i| names.sku(i)).transpose()?,
            quantity: l.quantity,
            backordered: l.backordered,
            removed: l.removed,
            allocations: allocations.into_iter().map(|(_, a)| a).collect(),
        });
    }
    fcs.sort();
    Ok((lines, fcs.into_iter().map(|(_, c)| c).collect()))
}
