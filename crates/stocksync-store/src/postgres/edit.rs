//! Edits of existing catalog entries and channels on PostgreSQL (the same
//! rules as `crate::sqlite::edit`).

use stocksync_core::catalog::{ItemDraft, ItemKind};
use stocksync_core::workflow::{self, Ctx};
use stocksync_core::{ChannelId, FieldError, ItemId, Rejection};

use super::writer::Session;
use crate::error::{Result, StoreError};
use crate::input::{ChannelEdit, ItemPatch};

impl Session<'_> {
    pub fn update_item(&mut self, sku: &str, patch: &ItemPatch, actor: &str) -> Result<()> {
        let row = self.conn.query_opt("SELECT id, title, kind FROM items WHERE sku = $1", &[&sku])?;
        let Some((id, title, kind)) = row.map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1), r.get::<_, String>(2)))
        else {
            return Err(StoreError::not_found(format!("no item {sku}")));
        };
        if let Some(k) = &patch.kind {
            ItemKind::parse("kind", k).map_err(Rejection::from)?;
            if *k != kind {
                return Err(Rejection::invalid("kind", format!("an item's kind cannot change (it is {kind})")).into());
            }
        }
        let current = super::read::item(self.conn, sku)?.ok_or_else(|| StoreError::not_found(sku.to_owned()))?;
        let draft = ItemDraft {
            sku: sku.to_owned(),
            title: Some(patch.title.clone().unwrap_or(title)),
            kind: kind.clone(),
            components: patch
                .components
                .clone()
                .unwrap_or_else(|| current.components.iter().map(|c| (c.sku.clone(), i64::from(c.quantity))).collect()),
            aliases: patch.aliases.clone().unwrap_or_else(|| current.aliases.clone()),
        };
        let spec = draft.validate()?;
        spec.check_against(&super::catalog::SqlCatalog(std::cell::RefCell::new(&mut *self.conn)), Some(ItemId(id)))?;
        if kind == "stock" && patch.components.as_ref().is_some_and(|c| !c.is_empty()) {
            return Err(Rejection::from(FieldError::new("components", "a stock item has no components")).into());
        }
        self.conn
            .execute("UPDATE items SET title = $2, updated_at = $3 WHERE id = $1", &[&id, &spec.title, &self.now.0])?;
        if patch.components.is_some() {
            self.conn.execute("DELETE FROM bundle_components WHERE bundle_id = $1", &[&id])?;
            self.insert_components(id, &spec)?;
        }
        let mut added = Vec::new();
        if patch.aliases.is_some() {
            self.conn.execute("DELETE FROM aliases WHERE item_id = $1", &[&id])?;
            for a in &spec.aliases {
                self.conn.execute("INSERT INTO aliases (alias, item_id) VALUES ($1, $2)", &[&a.as_str(), &id])?;
                if !current.aliases.iter().any(|c| c == a.as_str()) {
                    added.push(a.as_str().to_owned());
                }
            }
        }
        self.st.catalog_changed();
        self.st.skus.remove(&ItemId(id));
        // A bundle's new components change what its listings show.
        self.st.dirty_items.insert(ItemId(id));
        let cx = Ctx { at: self.now, actor };
        for alias in added {
            workflow::map_channel_sku(self, None, &alias, &cx)?;
        }
        Ok(())
    }

    /// Applies `edit` to the channel's current fields, validates and stores the result.
    pub fn update_channel(
        &mut self,
        channel: ChannelId,
        edit: impl FnOnce(&mut ChannelEdit) -> std::result::Result<(), Rejection>,
    ) -> Result<()> {
        let view = super::query::channel(self.conn, channel.0)?
            .ok_or_else(|| StoreError::not_found(format!("no channel {}", channel.0)))?;
        let mut e =
            ChannelEdit { name: view.name, base_url: view.base_url, credentials_json: None, settings: view.settings };
        edit(&mut e)?;
        e.settings.validate()?;
        let name = stocksync_core::values::external_id("name", &e.name).map_err(Rejection::from)?;
        let taken: bool = self
            .conn
            .query_one("SELECT EXISTS (SELECT 1 FROM channels WHERE name = $1 AND id != $2)", &[&name, &channel.0])?
            .get(0);
        if taken {
            return Err(Rejection::Conflict(format!("a channel named {name:?} already exists")).into());
        }
        let (source_fc, fc_ids) = self.channel_fc_ids(&e.settings)?;
        let s = &e.settings;
        self.conn.execute(
            "UPDATE channels SET name = $2, base_url = $3, credentials = COALESCE($4, credentials),
                 import_orders = $5, push_quantities = $6, import_quantities = $7, source_fc_id = $8, all_fcs = $9,
                 allow_split = $10, percent = $11, min_threshold = $12, max_visible = $13, poll_interval_s = $14
             WHERE id = $1",
            &[
                &channel.0,
                &name,
                &e.base_url,
                &e.credentials_json,
                &s.import_orders,
                &s.push_quantities,
                &s.import_quantities,
                &source_fc,
                &s.fulfillment_centers.is_none(),
                &s.allow_split,
                &i64::from(s.push.percent),
                &s.push.min_threshold,
                &s.push.max_visible,
                &i64::from(s.poll_interval_s),
            ],
        )?;
        self.conn.execute("DELETE FROM channel_fcs WHERE channel_id = $1", &[&channel.0])?;
        for fc in fc_ids {
            self.conn.execute("INSERT INTO channel_fcs (channel_id, fc_id) VALUES ($1, $2)", &[&channel.0, &fc])?;
        }
        self.st.catalog_changed();
        // The FC set and buffers change what every listing on it shows.
        let items = self.conn.query(
            "SELECT DISTINCT item_id FROM listings WHERE channel_id = $1 AND item_id IS NOT NULL",
            &[&channel.0],
        )?;
        self.st.dirty_items.extend(items.iter().map(|r| ItemId(r.get(0))));
        Ok(())
    }
}
