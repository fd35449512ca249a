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

impl StoredLine {
    /// Open (unshipped) units of `item` at `fc`.
    pub fn open_at(&self, item: i64, fc: i64) -> i64 {
        self.allocs.iter().filter(|a| !a.3 && a.0 == fc && a.1 == item).map(|a| a.2).sum()
    }
}

pub fn encode(lines: &[StoredLine]) -> Result<String> {
    serde_json::to_string(lines).map_err(|e| StoreError::Internal(format!("cannot encode order lines: {e}")))
}

pub fn decode(order: i64, text: &str) -> Result<Vec<StoredLine>> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Internal(format!("order {order}: stored lines are invalid: {e}")))
}
