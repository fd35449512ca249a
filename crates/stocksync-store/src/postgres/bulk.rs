//! Bulk operations behind CSV uploads and exports on PostgreSQL (the same
//! answers as `crate::sqlite::bulk`). Lookups take a whole chunk in one
//! query (arrays `unnest`ed with their positions): a round trip per SKU
//! would dominate a large upload's check pass.

use std::collections::HashMap;

use stocksync_core::books::Level;
use stocksync_core::workflow::{self, Ctx};
use stocksync_core::{ItemId, Rejection};

use super::Conn;
use super::writer::Session;
use crate::error::Result;
use crate::input::{ItemRow, ListingUpsert, NewListing};
use crate::views::{LevelRow, ListingRow, RowAction, SkuKind};

/// What each of `skus` names, in order.
pub fn sku_kinds(conn: &mut Conn, skus: &[String]) -> Result<Vec<SkuKind>> {
    let rows = conn.query(
        "SELECT k.n, i.kind, o.sku FROM unnest($1::text[]) WITH ORDINALITY AS k(sku, n)
         LEFT JOIN items i ON i.sku = k.sku
         LEFT JOIN aliases a ON i.id IS NULL AND a.alias = k.sku LEFT JOIN items o ON o.id = a.item_id
         ORDER BY k.n",
        &[&skus],
    )?;
    Ok(rows
        .iter()
        .map(|r| match (r.get::<_, Option<&str>>(1), r.get::<_, Option<String>>(2)) {
            (Some("bundle"), _) => SkuKind::Bundle,
            (Some(_), _) => SkuKind::Stock,
            (None, Some(of)) => SkuKind::AliasOf(of),
            (None, None) => SkuKind::Unknown,
        })
        .collect())
}

/// The level of each `(sku, fc code)`, zero where none exists yet.
pub fn levels_of(conn: &mut Conn, keys: &[(String, String)]) -> Result<Vec<Level>> {
    let (skus, fcs): (Vec<&str>, Vec<&str>) = keys.iter().map(|(s, f)| (s.as_str(), f.as_str())).unzip();
    let rows = conn.query(
        "SELECT k.n, l.on_hand, l.committed FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(sku, fc, n)
         LEFT JOIN items i ON i.sku = k.sku LEFT JOIN fulfillment_centers f ON f.code = k.fc
         LEFT JOIN stock_levels l ON l.item_id = i.id AND l.fc_id = f.id
         ORDER BY k.n",
        &[&skus, &fcs],
    )?;
    Ok(rows
        .iter()
        .map(|r| match (r.get::<_, Option<i64>>(1), r.get::<_, Option<i64>>(2)) {
            (Some(on_hand), Some(committed)) => Level { on_hand, committed },
            _ => Level::default(),
        })
        .collect())
}

/// Levels after `(sku, fc_id)`, ordered by SKU (bytes) then FC id.
pub fn level_page(conn: &mut Conn, after: Option<(&str, i64)>, limit: usize) -> Result<Vec<LevelRow>> {
    let (sku, fc_id) = after.unwrap_or(("", i64::MIN));
    let rows = conn.query(
        "SELECT i.sku, f.code, l.fc_id, l.on_hand FROM items i
         JOIN stock_levels l ON l.item_id = i.id JOIN fulfillment_centers f ON f.id = l.fc_id
         WHERE (i.sku, l.fc_id) > ($1, $2)
         ORDER BY i.sku, l.fc_id LIMIT $3",
        &[&sku, &fc_id, &(limit as i64)],
    )?;
    Ok(rows.iter().map(|r| LevelRow { sku: r.get(0), fc: r.get(1), fc_id: r.get(2), on_hand: r.get(3) }).collect())
}

/// Listings after `(channel_id, channel_sku)`, in the order of their unique index.
pub fn listing_page(conn: &mut Conn, after: Option<(i64, &str)>, limit: usize) -> Result<Vec<ListingRow>> {
    let (channel, channel_sku) = after.unwrap_or((i64::MIN, ""));
    let rows = conn.query(
        "SELECT l.channel_id, c.name, l.channel_sku, i.sku, l.external_id FROM listings l
         JOIN channels c ON c.id = l.channel_id LEFT JOIN items i ON i.id = l.item_id
         WHERE (l.channel_id, l.channel_sku) > ($1, $2)
         ORDER BY l.channel_id, l.channel_sku LIMIT $3",
        &[&channel, &channel_sku, &(limit as i64)],
    )?;
    Ok(rows
        .iter()
        .map(|r| ListingRow {
            channel_id: r.get(0),
            channel: r.get(1),
            channel_sku: r.get(2),
            sku: r.get(3),
            external_id: r.get(4),
        })
        .collect())
}

impl Session<'_> {
    /// Sends the buffered writes, then empties the writer's cache of stock
    /// levels: the next read of a level reloads it from the transaction.
    pub fn forget_cached_levels(&mut self) -> Result<()> {
        self.flush()?;
        self.st.levels = HashMap::new();
        Ok(())
    }

    /// Creates the item, or brings an existing one to the row's values.
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
    /// to the row's SKU and external id (see the SQLite backend).
    pub fn upsert_listing(&mut self, row: &ListingUpsert, actor: &str) -> Result<RowAction> {
        let current = self.conn.query_opt(
            "SELECT id, item_id, external_id FROM listings WHERE channel_id = $1 AND channel_sku = $2",
            &[&row.channel.0, &row.channel_sku],
        )?;
        let Some((id, item, external_id)) =
            current.map(|r| (r.get::<_, i64>(0), r.get::<_, Option<i64>>(1), r.get::<_, Option<String>>(2)))
        else {
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
                    .query_opt("SELECT id FROM items WHERE sku = $1", &[sku])?
                    .map(|r| r.get::<_, i64>(0))
                    .ok_or_else(|| Rejection::invalid("sku", format!("unknown item {sku}")))?,
            ),
        };
        let new_external = row.external_id.clone().or_else(|| external_id.clone());
        if new_item == item && new_external == external_id {
            return Ok(RowAction::Unchanged);
        }
        self.conn.execute(
            "UPDATE listings SET item_id = $2, external_id = $3 WHERE id = $1",
            &[&id, &new_item, &new_external],
        )?;
        if new_item != item {
            self.st.resolved.clear();
            self.st.dirty_items.extend(item.into_iter().chain(new_item).map(ItemId));
            let cx = Ctx { at: self.now, actor };
            workflow::map_channel_sku(self, Some(row.channel), &row.channel_sku, &cx)?;
        }
        Ok(RowAction::Updated)
    }
}
