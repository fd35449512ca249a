//! Store operations behind the API's resources: edits, lists and lookups.

use stocksync_core::{ChannelId, Rejection};

use crate::error::Result;
use crate::sqlite::edit::{ChannelEdit, ItemPatch};
use crate::sqlite::{idempotency, query};
use crate::views::{
    ChannelView, FcView, ItemView, LevelFilter, LevelView, ListingView, MovementFilter, MovementView, OrderFilter,
    OrderView, StoredResponse, SyncStatusView,
};
use crate::{Store, StoreError};

impl Store {
    pub async fn fc(&self, code: &str) -> Result<Option<FcView>> {
        let code = code.to_owned();
        self.read(move |c| query::fc(c, &code)).await
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
        self.write(move |s| {
            s.update_fc(&code, name.as_deref(), priority, active)?;
            query::fc(s.conn, &code)?.ok_or_else(|| StoreError::not_found(format!("no fulfillment center {code}")))
        })
        .await
    }

    pub async fn items(
        &self,
        q: Option<String>,
        kind: Option<String>,
        after: Option<String>,
        limit: usize,
    ) -> Result<Vec<ItemView>> {
        self.read(move |c| query::items(c, q.as_deref(), kind.as_deref(), after.as_deref(), limit)).await
    }

    /// Edits an item; returns it after.
    pub async fn update_item(&self, sku: &str, patch: ItemPatch, actor: &str) -> Result<ItemView> {
        let (sku, actor) = (sku.to_owned(), actor.to_owned());
        self.write(move |s| {
            s.update_item(&sku, &patch, &actor)?;
            crate::sqlite::read::item(s.conn, &sku)?.ok_or_else(|| StoreError::not_found(format!("no item {sku}")))
        })
        .await
    }

    pub async fn levels(&self, filter: LevelFilter, limit: usize) -> Result<Vec<LevelView>> {
        self.read(move |c| query::levels(c, &filter, limit)).await
    }

    pub async fn channel(&self, id: i64) -> Result<Option<ChannelView>> {
        self.read(move |c| query::channel(c, id)).await
    }

    pub async fn channels(&self) -> Result<Vec<ChannelView>> {
        self.read(query::channels).await
    }

    /// Edits a channel through `edit`, run on its current fields inside the
    /// transaction (so concurrent edits of different fields both land).
    pub async fn update_channel<F>(&self, id: i64, edit: F) -> Result<ChannelView>
    where
        F: FnOnce(&mut ChannelEdit) -> std::result::Result<(), Rejection> + Send + 'static,
    {
        self.write(move |s| {
            s.update_channel(ChannelId(id), edit)?;
            query::channel(s.conn, id)?.ok_or_else(|| StoreError::not_found(format!("no channel {id}")))
        })
        .await
    }

    pub async fn listings(&self, channel: i64, after: Option<String>, limit: usize) -> Result<Vec<ListingView>> {
        self.read(move |c| query::listings(c, channel, after.as_deref(), limit)).await
    }

    pub async fn listing(&self, channel: i64, channel_sku: &str) -> Result<Option<ListingView>> {
        let channel_sku = channel_sku.to_owned();
        self.read(move |c| query::listing(c, channel, &channel_sku)).await
    }

    pub async fn orders(&self, filter: OrderFilter, limit: usize) -> Result<Vec<OrderView>> {
        self.read(move |c| query::orders(c, &filter, limit)).await
    }

    pub async fn movements(&self, filter: MovementFilter, limit: usize) -> Result<Vec<MovementView>> {
        self.read(move |c| query::movements(c, &filter, limit)).await
    }

    pub async fn sync_status(&self) -> Result<Vec<SyncStatusView>> {
        self.read(query::sync_status).await
    }

    /// The answer stored for an idempotency key, if it is still kept.
    pub async fn idempotent_response(&self, scope: &str, key: &str) -> Result<Option<StoredResponse>> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        let now = crate::sqlite::now_ms();
        self.read(move |c| idempotency::get(c, &scope, &key, now)).await
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
        self.write(move |s| s.record_response(&scope, &key, &r)).await
    }
}
