//! Bulk operations behind CSV uploads and exports (PRODUCT.md §6): batch
//! lookups that let an upload be validated on reader connections, row
//! upserts for the items and listings formats, and keyset pages for exports.
//!
//! Upserts run in the writer's transaction like every other command, and
//! reject before their first write, so a caller may go on with the next row
//! after a rejection and still roll the whole job back at the end.

use rusqlite::{Connection, OptionalExtension, params};
use stocksync_core::books::Level;
use stocksync_core::workflow::{self, Ctx};
use stocksync_core::{ItemId, Rejection};

use super::writer::Session;
use crate::error::Result;
use crate::input::{ItemRow, ListingUpsert, NewListing};
use crate::views::{LevelRow, ListingRow, RowAction, SkuKind};

/// What each of `skus` names, in order. Point lookups on cached statements:
/// an index probe each, a few microseconds.
pub fn sku_kinds(conn: &Connection, skus: &[String]) -> Result<Vec<SkuKind>> {
    let mut by_sku = conn.prepare_cached("SELECT kind FROM items WHERE sku = ?1")?;
    let mut by_alias =
        conn.prepare_cached("SELECT i.sku FROM aliases a JOIN items i ON i.id = a.item_id WHERE a.alias = ?1")?;
    let mut out = Vec::with_capacity(skus.len());
    for sku in skus {
        let kind: Option<String> = by_sku.query_row([sku], |r| r.get(0)).optional()?;
        out.push(match kind.as_deref() {
            Some("bundle") => SkuKind::Bundle,
            Some(_) => SkuKind::Stock,
            None => match by_alias.query_row([sku], |r| r.get::<_, String>(0)).optional()? {
                Some(of) => SkuKind::AliasOf(of),
                None => SkuKind::Unknown,
            },
        });
    }
    Ok(out)
}

/// The level of each `(sku, fc code)`, zero where none exists yet.
pub fn levels_of(conn: &Connection, keys: &[(String, String)]) -> Result<Vec<Level>> {
    let mut q = conn.prepare_cached(
        "SELECT l.on_hand, l.committed FROM items i
         JOIN stock_levels l ON l.item_id = i.id JOIN fulfillment_centers f ON f.id = l.fc_id
         WHERE i.sku = ?1 AND f.code = ?2",
    )?;
    let mut out = Vec::with_capacity(keys.len());
    for (sku, fc) in keys {
        let level = q.query_row([sku, fc], |r| Ok(Level { on_hand: r.get(0)?, committed: r.get(1)? })).optional()?;
        out.push(level.unwrap_or_default());
    }
    Ok(out)
}

/// Levels after `(sku, fc_id)`, ordered by SKU then FC id: the SKU index
/// drives the scan and each item's levels come in primary-key order, so a
/// page costs the same however deep it is.
pub fn level_page(conn: &Connection, after: Option<(&str, i64)>, limit: usize) -> Result<Vec<LevelRow>> {
    let (sku, fc_id) = after.unwrap_or(("", i64::MIN));
    let rows = conn
        .prepare_cached(
            "SELECT i.sku, f.code, l.fc_id, l.on_hand FROM items i
             JOIN stock_levels l ON l.item_id = i.id JOIN fulfillment_centers f ON f.id = l.fc_id
             WHERE i.sku >= ?1 AND (i.sku > ?1 OR l.fc_id > ?2)
             ORDER BY i.sku, l.fc_id LIMIT ?3",
        )?
        .query_map(params![sku, fc_id, limit as i64], |r| {
            Ok(LevelRow { sku: r.get(0)?, fc: r.get(1)?, fc_id: r.get(2)?, on_hand: r.get(3)? })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Listings after `(channel_id, channel_sku)`, in the order of their unique index.
pub fn listing_page(conn: &Connection, after: Option<(i64, &str)>, limit: usize) -> Result<Vec<ListingRow>> {
    let (channel, channel_sku) = after.unwrap_or((i64::MIN, ""));
    let rows = conn
        .prepare_cached(
            "SELECT l.channel_id, c.name, l.channel_sku, i.sku, l.external_id FROM listings l
             JOIN channels c ON c.id = l.channel_id LEFT JOIN items i ON i.id = l.item_id
             WHERE (l.channel_id, l.channel_sku) > (?1, ?2)
             ORDER BY l.channel_id, l.channel_sku LIMIT ?3",
        )?
        .query_map(params![channel, channel_sku, limit as i64], |r| {
            Ok(ListingRow {
                channel_id: r.get(0)?,
                channel: r.get(1)?,
                channel_sku: r.get(2)?,
                sku: r.get(3)?,
                external_id: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

impl Session<'_> {
    /// Empties the writer's cache of stock levels (about 70 bytes a level).
    /// A job that sets a million levels once each calls this every so many
    /// rows, so that its memory does not grow with the file; the next read
    /// of a level reloads it from the open transaction.
    pub fn forget_cached_levels(&mut self) -> Result<()> {
        self.st.levels = std::collections::HashMap::new();
        Ok(())
    }

    /// Creates the item, or brings an existing one to the row's values.
    /// An item whose values already match is left alone, so re-uploading an
    /// export changes nothing (not even `updated_at`).
    pub fn upsert_item(&mut self, row: &ItemRow, actor: &str) -> Result<RowAction> {
        let Some(current) = super::read::item(self.conn, &row.sku)? else {
            self.create_item(&crate::bulk::new_item(row), actor)?;
            return Ok(RowAction::Created);
        };
        let Some(patch) = crate::bulk::item_patch(row, &current)? else { return Ok(RowAction::Unchanged) };
        self.update_item(&row.sku, &patch, actor)?;
        Ok(RowAction::Updated)
    }

    /// Creates the listing, or remaps an existing `(channel, channel_sku)`
    /// to the row's SKU and external id. A new mapping lets waiting order
    /// lines allocate, and both the old and the new item get a push.
    pub fn upsert_listing(&mut self, row: &ListingUpsert, actor: &str) -> Result<RowAction> {
        let current: Option<(i64, Option<i64>, Option<String>)> = self
            .conn
            .prepare_cached("SELECT id, item_id, external_id FROM listings WHERE channel_id = ?1 AND channel_sku = ?2")?
            .query_row(params![row.channel.0, row.channel_sku], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((id, item, external_id)) = current else {
            let listing = NewListing {
                channel_sku: row.channel_sku.clone(),
                sku: row.sku.clone(),
                external_id: row.external_id.clone(),
                ..Default::default()
            };
            self.create_listing(row.channel, &listing, actor)?;
            return Ok(RowAction::Created);
        };
        let new_item = match &row.sku {
            None => item,
            Some(sku) => Some(
                self.conn
                    .prepare_cached("SELECT id FROM items WHERE sku = ?1")?
                    .query_row([sku], |r| r.get::<_, i64>(0))
                    .optional()?
                    .ok_or_else(|| Rejection::invalid("sku", format!("unknown item {sku}")))?,
            ),
        };
        let new_external = row.external_id.clone().or_else(|| external_id.clone());
        if new_item == item && new_external == external_id {
            return Ok(RowAction::Unchanged);
        }
        self.conn
            .prepare_cached("UPDATE listings SET item_id = ?2, external_id = ?3 WHERE id = ?1")?
            .execute(params![id, new_item, new_external])?;
        if new_item != item {
            self.st.resolved.clear();
            self.st.dirty_items.extend(item.into_iter().chain(new_item).map(ItemId));
            let cx = Ctx { at: self.now, actor };
            workflow::map_channel_sku(self, Some(row.channel), &row.channel_sku, &cx)?;
        }
        Ok(RowAction::Updated)
    }
}
