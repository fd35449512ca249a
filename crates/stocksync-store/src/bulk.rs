//! Store operations behind CSV uploads and exports: batch lookups for
//! validation on reader connections, keyset pages for exports, and a write
//! job that may decide at its end to discard everything it did (a dry run,
//! or an upload with a bad row).

use std::sync::{Arc, Mutex, PoisonError};

use stocksync_core::Rejection;
use stocksync_core::books::Level;

use crate::sqlite::bulk::{self, LevelRow, ListingRow, SkuKind};
use crate::{Result, Session, Store, StoreError};

/// The rejection a discarded job returns to roll its savepoint back; the
/// caller never sees it.
const DISCARDED: &str = "the write job discarded its changes";

impl Store {
    /// What each of `skus` names (stock item, bundle, alias, nothing), in order.
    pub async fn sku_kinds(&self, skus: Vec<String>) -> Result<Vec<SkuKind>> {
        self.read(move |c| bulk::sku_kinds(c, &skus)).await
    }

    /// The current level of each `(sku, fc code)`, zero where none exists.
    pub async fn levels_of(&self, keys: Vec<(String, String)>) -> Result<Vec<Level>> {
        self.read(move |c| bulk::levels_of(c, &keys)).await
    }

    /// Up to `limit` stock levels after `(sku, fc_id)`, by SKU then FC id.
    pub async fn level_page(&self, after: Option<(String, i64)>, limit: usize) -> Result<Vec<LevelRow>> {
        self.read(move |c| bulk::level_page(c, after.as_ref().map(|(s, f)| (s.as_str(), *f)), limit)).await
    }

    /// Up to `limit` listings after `(channel_id, channel_sku)`.
    pub async fn listing_page(&self, after: Option<(i64, String)>, limit: usize) -> Result<Vec<ListingRow>> {
        self.read(move |c| bulk::listing_page(c, after.as_ref().map(|(c, s)| (*c, s.as_str())), limit)).await
    }

    /// Runs `f` as one write job. `f` returns a value and whether to keep
    /// its writes: with `false` the job's savepoint is rolled back (and the
    /// value still returned), so a job can apply rows one by one, collect
    /// every problem, and only then decide. Returns the value and whether
    /// the writes were committed.
    pub async fn write_or_discard<T, F>(&self, f: F) -> Result<(T, bool)>
    where
        T: Send + 'static,
        F: FnOnce(&mut Session<'_>) -> Result<(T, bool)> + Send + 'static,
    {
        let slot: Arc<Mutex<Option<T>>> = Arc::default();
        let discarded = slot.clone();
        let written = self
            .write(move |s| {
                // Items the job marked for a push must not be pushed if its
                // writes are undone (other jobs of the batch keep theirs).
                let dirty = s.st.dirty_items.clone();
                let outcome = f(s);
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
            })
            .await;
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
