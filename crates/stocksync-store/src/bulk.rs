//! Store operations behind CSV uploads and exports: batch lookups for
//! validation on reader connections, keyset pages for exports, and a write
//! job that may decide at its end to discard everything it did (a dry run,
//! or an upload with a bad row).
//!
//! The job sees a `BulkJob`: the few row operations an upload applies, over
//! whichever backend's open transaction. It is not a general session: each
//! operation is a named store operation, written once per backend.

use std::sync::{Arc, Mutex, PoisonError};

use stocksync_core::books::{Books, Level};
use stocksync_core::catalog::ItemDraft;
use stocksync_core::workflow::{self, Ctx, StockTarget};
use stocksync_core::{Rejection, Timestamp};

use crate::input::{ItemPatch, ItemRow, ListingUpsert};
use crate::views::{ItemView, LevelRow, ListingRow, RowAction, SkuKind};
use crate::{Isolation, Result, Store, StoreError, postgres, sqlite};

/// The rejection a discarded job returns to roll its savepoint back; the
/// caller never sees it.
const DISCARDED: &str = "the write job discarded its changes";

/// One upload's view of the writer's open transaction, on either backend.
pub struct BulkJob<'a, 'b>(Session<'a, 'b>);

enum Session<'a, 'b> {
    Sqlite(&'a mut sqlite::writer::Session<'b>),
    Postgres(&'a mut postgres::writer::Session<'b>),
}

impl std::fmt::Debug for BulkJob<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkJob").field("now", &self.now()).finish_non_exhaustive()
    }
}

impl<'a, 'b> From<&'a mut sqlite::writer::Session<'b>> for BulkJob<'a, 'b> {
    fn from(s: &'a mut sqlite::writer::Session<'b>) -> Self {
        Self(Session::Sqlite(s))
    }
}

impl<'a, 'b> From<&'a mut postgres::writer::Session<'b>> for BulkJob<'a, 'b> {
    fn from(s: &'a mut postgres::writer::Session<'b>) -> Self {
        Self(Session::Postgres(s))
    }
}

/// Expands `$body` with `$s` bound to the backend's session.
macro_rules! on_session {
    ($job:expr, |$s:ident| $body:expr) => {
        match &mut $job.0 {
            Session::Sqlite($s) => $body,
            Session::Postgres($s) => $body,
        }
    };
}

impl BulkJob<'_, '_> {
    /// The time of this job's transaction (the writer's clock).
    pub fn now(&self) -> Timestamp {
        match &self.0 {
            Session::Sqlite(s) => s.now,
            Session::Postgres(s) => s.now,
        }
    }

    /// Lets the writer drop what it keeps per stock level. A job that sets
    /// a million levels once each calls this every so many rows, so that its
    /// memory does not grow with the file.
    pub fn forget_cached_levels(&mut self) -> Result<()> {
        on_session!(self, |s| s.forget_cached_levels())
    }

    /// The level of a stock item at an FC, in this transaction.
    pub fn level(&mut self, sku: &str, fc: &str) -> Result<Level> {
        on_session!(self, |s| {
            let item = s.stock_item(sku)?;
            let fc = s.fc(fc)?.id;
            s.level(item, fc)
        })
    }

    /// Sets one level as a manual edit does (`workflow::set_stock`): a
    /// movement with `reason` and `reference`, a push, backorders allocated.
    pub fn set_stock(
        &mut self,
        sku: &str,
        fc: &str,
        target: StockTarget,
        reason: Option<&str>,
        reference: &str,
        actor: &str,
    ) -> Result<Level> {
        on_session!(self, |s| {
            let cx = Ctx { at: s.now, actor };
            workflow::set_stock(&mut **s, sku, fc, target, reason, reference, &cx)
        })
    }

    /// Creates the item, or brings an existing one to the row's values.
    pub fn upsert_item(&mut self, row: &ItemRow, actor: &str) -> Result<RowAction> {
        on_session!(self, |s| s.upsert_item(row, actor))
    }

    /// Creates the listing, or remaps an existing one.
    pub fn upsert_listing(&mut self, row: &ListingUpsert, actor: &str) -> Result<RowAction> {
        on_session!(self, |s| s.upsert_listing(row, actor))
    }
}

impl Store {
    /// What each of `skus` names (stock item, bundle, alias, nothing), in order.
    pub async fn sku_kinds(&self, skus: Vec<String>) -> Result<Vec<SkuKind>> {
        on_reader!(self, |c, db| db::bulk::sku_kinds(c, &skus))
    }

    /// The current level of each `(sku, fc code)`, zero where none exists.
    pub async fn levels_of(&self, keys: Vec<(String, String)>) -> Result<Vec<Level>> {
        on_reader!(self, |c, db| db::bulk::levels_of(c, &keys))
    }

    /// Up to `limit` stock levels after `(sku, fc_id)`, by SKU then FC id.
    pub async fn level_page(&self, after: Option<(String, i64)>, limit: usize) -> Result<Vec<LevelRow>> {
        on_reader!(self, |c, db| db::bulk::level_page(c, after.as_ref().map(|(s, f)| (s.as_str(), *f)), limit))
    }

    /// Up to `limit` listings after `(channel_id, channel_sku)`.
    pub async fn listing_page(&self, after: Option<(i64, String)>, limit: usize) -> Result<Vec<ListingRow>> {
        on_reader!(self, |c, db| db::bulk::listing_page(c, after.as_ref().map(|(c, s)| (*c, s.as_str())), limit))
    }

    /// Runs `f` as one write job. `f` returns a value and whether to keep
    /// its writes: with `false` the job's savepoint is rolled back (and the
    /// value still returned), so a job can apply rows one by one, collect
    /// every problem, and only then decide. Returns the value and whether
    /// the writes were committed.
    pub async fn write_or_discard<T, F>(&self, f: F) -> Result<(T, bool)>
    where
        T: Send + 'static,
        F: FnOnce(&mut BulkJob<'_, '_>) -> Result<(T, bool)> + Send + 'static,
    {
        let slot: Arc<Mutex<Option<T>>> = Arc::default();
        let discarded = slot.clone();
        let written = on_writer!(self, Isolation::Savepoint, |s| {
            // Items the job marked for a push must not be pushed if its
            // writes are undone (other jobs of the batch keep theirs).
            let dirty = s.st.dirty_items.clone();
            let outcome = f(&mut BulkJob::from(&mut *s));
            if !matches!(outcome, Ok((_, true))) {
                s.st.dirty_items = dirty;
            }
            match outcome? {
                (value, true) => Ok(Some(value)),
                (value, false) => {
                    *discarded.lock().unwrap_or_else(PoisonError::into_inner) = Some(value);
                    Err(Rejection::Conflict(DISCARDED.to_owned()).into())
                }
            }
        });
        let kept = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        match (written, kept) {
            (Ok(Some(value)), _) => Ok((value, true)),
            // Discarded: the rollback (or a failed commit of the batch) undid it either way.
            (_, Some(value)) => Ok((value, false)),
            (Err(e), None) => Err(e),
            (Ok(None), None) => Err(StoreError::Internal("a write job returned no value".into())),
        }
    }
}

/// The item an upload row creates.
pub(crate) fn new_item(row: &ItemRow) -> ItemDraft {
    ItemDraft {
        sku: row.sku.clone(),
        title: row.title.clone(),
        kind: row.kind.clone(),
        components: row.components.clone().unwrap_or_default(),
        aliases: row.aliases.clone().unwrap_or_default(),
    }
}

/// What an upload row changes in an existing item, or `None` when its
/// values already match: re-uploading an export changes nothing (not even
/// `updated_at`). An item's kind cannot change.
pub(crate) fn item_patch(row: &ItemRow, current: &ItemView) -> Result<Option<ItemPatch>> {
    if current.kind != row.kind {
        let message = format!("an item's kind cannot change ({} is {})", row.sku, current.kind);
        return Err(Rejection::invalid("kind", message).into());
    }
    let title = row.title.clone().filter(|t| *t != current.title);
    let components = row.components.clone().filter(|c| {
        !c.iter()
            .map(|(s, q)| (s.as_str(), *q))
            .eq(current.components.iter().map(|c| (c.sku.as_str(), i64::from(c.quantity))))
    });
    let aliases = row.aliases.clone().filter(|a| {
        let mut sorted: Vec<&str> = a.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        !sorted.iter().copied().eq(current.aliases.iter().map(String::as_str))
    });
    if title.is_none() && components.is_none() && aliases.is_none() {
        return Ok(None);
    }
    Ok(Some(ItemPatch { title, kind: None, components, aliases }))
}
