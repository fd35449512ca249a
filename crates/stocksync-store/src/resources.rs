//! Store operations behind the API's resources: edits, lists and lookups.

use stocksync_core::{ChannelId, Rejection};

use crate::error::Result;
use crate::input::{ChannelEdit, ItemPatch};
use crate::views::{
    ChannelView, FcView, ItemView, LevelFilter, LevelView, ListingView, MovementFilter, MovementView, OrderFilter,
    OrderView, StoredResponse, SyncStatusView,
};
use crate::{Isolation, Store, StoreError};

impl Store {
    pub async fn fc(&self, code: &str) -> Result<Option<FcView>> {
        let code = code.to_owned();
        on_reader!(self, |c, db| db::query::fc(c, &code))
    }

    /// Changes an FC's name, priority or active flag; returns it after.
    pub async fn update_fc(
        &self,
        code: &str,
        name: Option<String>,
        priority: Option<i64>,
        active: Option<bool>,
    ) -> Result<FcView> {
        let code = code.to_owned();
        on_writer!(self, Isolation::Savepoint, |s, db| {
            s.update_fc(&code, name.as_deref(), priority, active)?;
            db::query::fc(s.conn, &code)?.ok_or_else(|| StoreError::not_found(format!("no fulfillment center {code}")))
        })
    }

    /// Gives the FCs `codes` the priorities 1, 2, 3, … in that order, in
    /// one transaction (the web UI's move up and down).
    pub async fn set_fc_order(&self, codes: Vec<String>) -> Result<()> {
        on_writer!(self, Isolation::Savepoint, |s| {
            for (i, code) in codes.iter().enumerate() {
                s.update_fc(code, None, Some(i as i64 + 1), None)?;
            }
            Ok(())
        })
    }

    pub async fn items(
        &self,
        q: Option<String>,
        kind: Option<String>,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<ItemView>> {
        on_reader!(self, |c, db| db::query::items(c, q.as_deref(), kind.as_deref(), after.as_deref(), limit))
    }

    /// Edits an item; returns it after.
    pub async fn update_item(&self, sku: &str, patch: ItemPatch, actor: &str) -> Result<ItemView> {
        let (sku, actor) = (sku.to_owned(), actor.to_owned());
        on_writer!(self, Isolation::Savepoint, |s, db| {
            s.update_item(&sku, &patch, &actor)?;
            db::read::item(s.conn, &sku)?.ok_or_else(|| StoreError::not_found(format!("no item {sku}")))
        })
    }

    pub async fn levels(&self, filter: LevelFilter, limit: usize) -> Result<Vec<LevelView>> {
        on_reader!(self, |c, db| db::query::levels(c, &filter, limit))
    }

    pub async fn channel(&self, id: i64) -> Result<Option<ChannelView>> {
        on_reader!(self, |c, db| db::query::channel(c, id))
    }

    pub async fn channels(&self) -> Result<Vec<ChannelView>> {
        on_reader!(self, |c, db| db::query::channels(c))
    }

    /// Edits a channel through `edit`, run on its current fields inside the
    /// transaction (so concurrent edits of different fields both land).
    pub async fn update_channel<F>(&self, id: i64, edit: F) -> Result<ChannelView>
    where
        F: FnOnce(&mut ChannelEdit) -> std::result::Result<(), Rejection> + Send + 'static,
    {
        on_writer!(self, Isolation::Savepoint, |s, db| {
            s.update_channel(ChannelId(id), edit)?;
            db::query::channel(s.conn, id)?.ok_or_else(|| StoreError::not_found(format!("no channel {id}")))
        })
    }

    pub async fn listings(&self, channel: i64, after: Option<String>, limit: usize) -> Result<Vec<ListingView>> {
        on_reader!(self, |c, db| db::query::listings(c, channel, after.as_deref(), limit))
    }

    pub async fn listing(&self, channel: i64, channel_sku: &str) -> Result<Option<ListingView>> {
        let channel_sku = channel_sku.to_owned();
        on_reader!(self, |c, db| db::query::listing(c, channel, &channel_sku))
    }

    pub async fn orders(&self, filter: OrderFilter, limit: usize) -> Result<Vec<OrderView>> {
        on_reader!(self, |c, db| db::query::orders(c, &filter, limit))
    }

    pub async fn movements(&self, filter: MovementFilter, limit: usize) -> Result<Vec<MovementView>> {
        on_reader!(self, |c, db| db::query::movements(c, &filter, limit))
    }

    pub async fn sync_status(&self) -> Result<Vec<SyncStatusView>> {
        on_reader!(self, |c, db| db::query::sync_status(c))
    }

    /// The answer stored for an idempotency key, if it is still kept.
    pub async fn idempotent_response(&self, scope: &str, key: &str) -> Result<Option<StoredResponse>> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        let now = crate::now_ms();
        on_reader!(self, |c, db| db::idempotency::get(c, &scope, &key, now))
    }

    pub async fn record_idempotent_response(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        status: u16,
        body: Vec<u8>,
    ) -> Result<()> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        let r = StoredResponse { fingerprint: fingerprint.to_owned(), status, body };
        on_writer!(self, Isolation::Savepoint, |s| s.record_response(&scope, &key, &r))
    }
}
