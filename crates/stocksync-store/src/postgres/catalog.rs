//! Catalog and configuration commands on PostgreSQL: fulfillment centers,
//! items, channels, listings (the same rules as `crate::sqlite::catalog`).

use std::cell::RefCell;

use stocksync_core::catalog::{CatalogView, FcSpec, ItemDraft, ItemKind, ItemSpec, SkuOwner};
use stocksync_core::workflow::{self, Ctx};
use stocksync_core::{ChannelId, FieldError, ItemId, Rejection, Sku};

use super::Conn;
use super::writer::Session;
use crate::error::{Result, StoreError};
use crate::input::{NewChannel, NewListing};

/// The catalog as seen by validation, read from the open transaction.
pub(crate) struct SqlCatalog<'a>(pub(crate) RefCell<&'a mut Conn>);

impl SqlCatalog<'_> {
    fn owner_of(&self, sku: &str) -> Result<Option<SkuOwner>> {
        let mut conn = self.0.borrow_mut();
        if let Some(r) = conn.query_opt("SELECT id, kind FROM items WHERE sku = $1", &[&sku])? {
            let (id, kind): (i64, String) = (r.get(0), r.get(1));
            let components = conn
                .query(
                    "SELECT i.sku FROM bundle_components c JOIN items i ON i.id = c.component_id WHERE c.bundle_id = $1",
                    &[&id],
                )?
                .iter()
                .filter_map(|r| Sku::parse(r.get(0)).ok())
                .collect();
            let kind = if kind == "bundle" { ItemKind::Bundle } else { ItemKind::Stock };
            return Ok(Some(SkuOwner::Item { id: ItemId(id), kind, components }));
        }
        let of =
            conn.query_opt("SELECT i.sku FROM aliases a JOIN items i ON i.id = a.item_id WHERE a.alias = $1", &[&sku])?;
        Ok(of.and_then(|r| Sku::parse(r.get(0)).ok()).map(|of| SkuOwner::Alias { of }))
    }
}

impl CatalogView for SqlCatalog<'_> {
    fn owner(&self, sku: &str) -> Option<SkuOwner> {
        // Validation cannot carry a database error; a failed query would also
        // fail the insert that follows, which reports it.
        self.owner_of(sku).ok().flatten()
    }
}

impl Session<'_> {
    fn ctx_actor<'b>(&self, actor: &'b str) -> Ctx<'b> {
        Ctx { at: self.now, actor }
    }

    fn catalog(&mut self) -> SqlCatalog<'_> {
        SqlCatalog(RefCell::new(&mut *self.conn))
    }

    pub fn create_fc(&mut self, spec: &FcSpec) -> Result<()> {
        let inserted = self.conn.execute(
            "INSERT INTO fulfillment_centers (code, name, priority, active, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (code) DO NOTHING",
            &[&spec.code.as_str(), &spec.name, &spec.priority, &spec.active, &self.now.0],
        )?;
        if inserted == 0 {
            return Err(Rejection::Conflict(format!("fulfillment center {} already exists", spec.code)).into());
        }
        self.st.catalog_changed();
        Ok(())
    }

    /// Changes an FC's name, priority or active flag.
    pub fn update_fc(
        &mut self,
        code: &str,
        name: Option<&str>,
        priority: Option<i64>,
        active: Option<bool>,
    ) -> Result<()> {
        stocksync_core::catalog::fc_changes(name, priority)?;
        let n = self.conn.execute(
            "UPDATE fulfillment_centers SET name = COALESCE($2, name), priority = COALESCE($3, priority),
                    active = COALESCE($4, active) WHERE code = $1",
            &[&code, &name, &priority, &active],
        )?;
        if n == 0 {
            return Err(StoreError::not_found(format!("no fulfillment center {code}")));
        }
        self.st.catalog_changed();
        // Which FCs sell changes what every listing shows.
        let items = self.conn.query("SELECT DISTINCT item_id FROM listings WHERE item_id IS NOT NULL", &[])?;
        self.st.dirty_items.extend(items.iter().map(|r| ItemId(r.get(0))));
        Ok(())
    }

    /// Validates and creates an item, then maps waiting order lines that name it.
    pub fn create_item(&mut self, draft: &ItemDraft, actor: &str) -> Result<ItemId> {
        let spec = draft.validate()?;
        spec.check_against(&self.catalog(), None)?;
        let id = self.insert_item(&spec)?;
        self.st.catalog_changed();
        let cx = self.ctx_actor(actor);
        for name in std::iter::once(&spec.sku).chain(&spec.aliases) {
            workflow::map_channel_sku(self, None, name.as_str(), &cx)?;
        }
        Ok(id)
    }

    /// Creates many items at once, all or nothing; errors name the entry as `[i].field`.
    pub fn create_items(&mut self, drafts: &[ItemDraft], actor: &str) -> Result<usize> {
        let mut errors = Vec::new();
        for (i, d) in drafts.iter().enumerate() {
            let checked = d.validate().and_then(|spec| spec.check_against(&self.catalog(), None).map(|()| spec));
            match checked {
                Ok(spec) => {
                    if let Err(e) = self.insert_item(&spec) {
                        // The transaction accepts no more statements after a
                        // failed one; stop here (the job is undone).
                        errors.push(FieldError::new(format!("[{i}]"), e.to_string()));
                        break;
                    }
                }
                Err(Rejection::Invalid(es)) => errors.extend(es.into_iter().map(|e| e.within(&format!("[{i}]")))),
                Err(other) => errors.push(FieldError::new(format!("[{i}]"), other.to_string())),
            }
        }
        if !errors.is_empty() {
            return Err(Rejection::Invalid(errors).into());
        }
        self.st.catalog_changed();
        let cx = self.ctx_actor(actor);
        for d in drafts {
            workflow::map_channel_sku(self, None, &d.sku, &cx)?;
            for a in &d.aliases {
                workflow::map_channel_sku(self, None, a, &cx)?;
            }
        }
        Ok(drafts.len())
    }

    fn insert_item(&mut self, spec: &ItemSpec) -> Result<ItemId> {
        let id: i64 = self
            .conn
            .query_one(
                "INSERT INTO items (sku, title, kind, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
                &[&spec.sku.as_str(), &spec.title, &spec.kind.as_str(), &self.now.0],
            )?
            .get(0);
        self.insert_components(id, spec)?;
        for a in &spec.aliases {
            self.conn.execute("INSERT INTO aliases (alias, item_id) VALUES ($1, $2)", &[&a.as_str(), &id])?;
        }
        Ok(ItemId(id))
    }

    pub(crate) fn insert_components(&mut self, bundle: i64, spec: &ItemSpec) -> Result<()> {
        for (pos, c) in spec.components.iter().enumerate() {
            self.conn.execute(
                "INSERT INTO bundle_components (bundle_id, position, component_id, quantity)
                 SELECT $1, $2, id, $4 FROM items WHERE sku = $3",
                &[&bundle, &(pos as i64), &c.sku.as_str(), &i64::from(c.quantity)],
            )?;
        }
        Ok(())
    }

    /// The ids of the FCs a channel's settings name, each error naming its field.
    pub(crate) fn channel_fc_ids(
        &mut self,
        settings: &stocksync_core::channel::ChannelSettings,
    ) -> Result<(Option<i64>, Vec<i64>)> {
        let source_fc = match &settings.source_fc {
            Some(code) => Some(self.fc_id_for_field("settings.source_fc", code.as_str())?),
            None => None,
        };
        let mut fc_ids = Vec::new();
        for (i, code) in settings.fulfillment_centers.iter().flatten().enumerate() {
            fc_ids.push(self.fc_id_for_field(&format!("settings.fulfillment_centers[{i}]"), code.as_str())?);
        }
        Ok((source_fc, fc_ids))
    }

    /// Creates a channel and returns its id.
    pub fn create_channel(&mut self, ch: &NewChannel) -> Result<ChannelId> {
        ch.settings.validate()?;
        let name = stocksync_core::values::external_id("name", &ch.name).map_err(Rejection::from)?;
        let (source_fc, fc_ids) = self.channel_fc_ids(&ch.settings)?;
        let s = &ch.settings;
        let id = self.conn.query_opt(
            "INSERT INTO channels (name, kind, base_url, credentials, import_orders, push_quantities, import_quantities,
                 source_fc_id, all_fcs, allow_split, percent, min_threshold, max_visible, poll_interval_s, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            &[
                &name,
                &ch.kind.as_str(),
                &ch.base_url,
                &ch.credentials_json,
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
                &self.now.0,
            ],
        )?;
        let Some(id) = id.map(|r| ChannelId(r.get(0))) else {
            return Err(Rejection::Conflict(format!("a channel named {name:?} already exists")).into());
        };
        for fc in fc_ids {
            self.conn.execute("INSERT INTO channel_fcs (channel_id, fc_id) VALUES ($1, $2)", &[&id.0, &fc])?;
        }
        self.st.catalog_changed();
        Ok(id)
    }

    pub(crate) fn fc_id_for_field(&mut self, field: &str, code: &str) -> Result<i64> {
        let row = self.conn.query_opt("SELECT id FROM fulfillment_centers WHERE code = $1", &[&code])?;
        row.map(|r| r.get(0))
            .ok_or_else(|| Rejection::invalid(field, format!("unknown fulfillment center {code}")).into())
    }

    /// Creates a listing; an explicit `sku` maps it, otherwise its channel SKU
    /// resolves by SKU or alias. Waiting order lines for it then allocate.
    pub fn create_listing(&mut self, channel: ChannelId, l: &NewListing, actor: &str) -> Result<Option<ItemId>> {
        let mut errors = Vec::new();
        let channel_sku = Sku::parse_field("channel_sku", &l.channel_sku).map_err(|e| errors.push(e)).ok();
        let o = &l.overrides;
        errors.extend(o.problems());
        let item = match &l.sku {
            Some(sku) => {
                let found = self.conn.query_opt("SELECT id FROM items WHERE sku = $1", &[sku])?.map(|r| r.get(0));
                if found.is_none() {
                    errors.push(FieldError::new("sku", format!("unknown item {sku}")));
                }
                found
            }
            None => None,
        };
        let Some(channel_sku) = channel_sku.filter(|_| errors.is_empty()) else {
            return Err(Rejection::Invalid(errors).into());
        };
        let exists: bool =
            self.conn.query_one("SELECT EXISTS (SELECT 1 FROM channels WHERE id = $1)", &[&channel.0])?.get(0);
        if !exists {
            return Err(StoreError::not_found(format!("no channel {}", channel.0)));
        }
        let item: Option<i64> = match item {
            Some(i) => Some(i),
            None => self.lookup_item(channel, channel_sku.as_str())?.map(|(id, ..)| id.0),
        };
        let inserted = self.conn.execute(
            "INSERT INTO listings (channel_id, channel_sku, item_id, external_id, percent, min_threshold, max_visible, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (channel_id, channel_sku) DO NOTHING",
            &[
                &channel.0,
                &channel_sku.as_str(),
                &item,
                &l.external_id,
                &o.percent.map(i64::from),
                &o.min_threshold,
                &o.max_visible,
                &self.now.0,
            ],
        )?;
        if inserted == 0 {
            // A listing read from the channel whose SKU named no item yet may
            // now be mapped; a mapped one is a conflict (change it, not re-create it).
            let mapped = match item {
                Some(item) => self.conn.execute(
                    "UPDATE listings SET item_id = $3, external_id = COALESCE($4, external_id),
                            percent = COALESCE($5, percent), min_threshold = COALESCE($6, min_threshold),
                            max_visible = COALESCE($7, max_visible)
                     WHERE channel_id = $1 AND channel_sku = $2 AND item_id IS NULL",
                    &[
                        &channel.0,
                        &channel_sku.as_str(),
                        &item,
                        &l.external_id,
                        &o.percent.map(i64::from),
                        &o.min_threshold,
                        &o.max_visible,
                    ],
                )?,
                None => 0,
            };
            if mapped == 0 {
                return Err(
                    Rejection::Conflict(format!("channel {} already has a listing {channel_sku}", channel.0)).into()
                );
            }
        }
        self.st.resolved.clear();
        if let Some(item) = item {
            self.st.dirty_items.insert(ItemId(item));
            let cx = self.ctx_actor(actor);
            workflow::map_channel_sku(self, Some(channel), channel_sku.as_str(), &cx)?;
        }
        Ok(item.map(ItemId))
    }
}
