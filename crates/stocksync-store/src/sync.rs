//! Store operations for the sync workers: the push outbox and order import.

use stocksync_core::order::IncomingOrder;
use stocksync_core::workflow::{self, Ctx, ImportOutcome};
use stocksync_core::{ChannelId, Timestamp};

use crate::error::{Result, StoreError};
use crate::input::PushAnswer;
use crate::views::{ChannelView, DuePush, Taken};
use crate::{Isolation, Store};

/// What one import batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Orders the workflow refused, with the reason (nothing of them applied).
    pub rejected: Vec<(String, String)>,
    /// Created or changed orders by their status after the import (`allocated`, `backordered`, ...).
    pub statuses: std::collections::BTreeMap<&'static str, usize>,
}

/// How long a claimed push stays its sender's (`Store::claim_pushes`), in
/// milliseconds. It outlasts the longest push a worker lets a connector
/// take, so no other process sends a listing while an older value for it
/// may still be in flight; a sender that dies holds its rows back at most
/// this long.
pub const CLAIM_TTL_MS: i64 = 45_000;

/// How a claim of `limit` pushes splits between the backlog, oldest first
/// (a quarter, rounded up), and the fresh changes, those stale for at most
/// `FRESH_MS`, also oldest first, then the backlog again if fewer are
/// fresh. A backlog (one poll bringing thousands of orders, a big upload)
/// still drains at the channel's full rate whenever few fresh changes
/// arrive, while changes made meanwhile go out in the next call, in their
/// order, instead of queueing behind it. Fresh changes can still be shown
/// in time, so they get most of a batch; nothing starves, as the oldest
/// get at least a quarter of every batch (measured: BENCHMARKS.md, the
/// five-minute runs).
pub(crate) fn claim_split(limit: usize) -> (usize, usize) {
    let backlog = limit.div_ceil(4);
    (backlog, limit - backlog)
}

/// How long a change counts as fresh for a push claim, in milliseconds:
/// longer than the lag of a channel polled every second (the order's own
/// time stamps its change, see `Dirty`), shorter than a minutely poll's.
pub(crate) const FRESH_MS: i64 = 5_000;

impl Store {
    /// Ticks whenever a commit appended to the push outbox.
    pub fn outbox_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        match &self.backend {
            crate::Backend::Sqlite { writer, .. } => writer.outbox_changes(),
            crate::Backend::Postgres(pg) => pg.writer.outbox_changes(),
        }
    }

    /// Moves waiting queue rows into per-listing push state.
    pub async fn take_push_queue(&self, max_rows: usize) -> Result<Taken> {
        on_writer!(self, Isolation::Savepoint, |s| s.take_push_queue(max_rows))
    }

    pub async fn push_queue_waiting(&self) -> Result<bool> {
        on_reader!(self, |c, db| db::push::queue_waiting(c))
    }

    pub async fn due_pushes(&self, channel: i64, now: Timestamp, limit: usize) -> Result<Vec<DuePush>> {
        on_reader!(self, |c, db| db::push::due_pushes(c, channel, now, limit))
    }

    /// Claims up to `limit` of `channel`'s due pushes for `holder`, zeros
    /// first, then the oldest and the fresh, a quarter and three quarters (`claim_split`):
    /// no other holder gets them until `holder` records
    /// their answers or `CLAIM_TTL_MS` has passed. With several processes
    /// on one database, each push is sent once, and a listing's values in
    /// the order of their versions (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
    pub async fn claim_pushes(&self, channel: i64, holder: &str, now: Timestamp, limit: usize) -> Result<Vec<DuePush>> {
        // Idle loops ask often: only a step with something due writes.
        if !on_reader!(self, |c, db| db::push::any_due(c, channel, now))? {
            return Ok(Vec::new());
        }
        let holder = holder.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| s.claim_pushes(channel, &holder, now, limit))
    }

    /// Takes or renews `holder`'s lease on each of `channels` that no other
    /// holder has renewed within its lease, for `ttl`; returns the channels
    /// `holder` now holds and until when. A channel's workers run only in
    /// the process that holds its lease.
    pub async fn hold_leases(
        &self,
        holder: &str,
        channels: Vec<i64>,
        ttl: std::time::Duration,
    ) -> Result<Vec<(i64, Timestamp)>> {
        let (holder, ttl_ms) = (holder.to_owned(), i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        on_writer!(self, Isolation::Savepoint, |s| s.hold_leases(&holder, &channels, ttl_ms))
    }

    /// Gives up all of `holder`'s leases.
    pub async fn release_leases(&self, holder: &str) -> Result<()> {
        let holder = holder.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| s.release_leases(&holder))
    }

    pub async fn record_pushes(&self, answers: Vec<PushAnswer>) -> Result<()> {
        on_writer!(self, Isolation::Savepoint, |s| s.record_pushes(&answers))
    }

    /// Every channel with its credentials (a JSON object), for the workers.
    pub async fn channel_configs(&self) -> Result<Vec<(ChannelView, String)>> {
        on_reader!(self, |c, db| db::push::channel_configs(c))
    }

    /// Imports a channel's orders and advances its import cursor in one
    /// transaction: after a crash, either both happened or neither did.
    pub async fn import_orders(
        &self,
        channel: ChannelId,
        orders: Vec<IncomingOrder>,
        cursor: Option<String>,
        actor: &str,
    ) -> Result<ImportReport> {
        let actor = actor.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| {
            let mut report = ImportReport::default();
            let cx = Ctx { at: s.now, actor: &actor };
            for order in &orders {
                // The import workflow refuses only before its first write, so
                // a refused order leaves nothing behind and the rest go on.
                s.st.dirty_items.set_source(Some(order.version_at()));
                let outcome = workflow::import_order(s, order, &cx);
                if let Ok(o) = &outcome
                    && o.changed
                {
                    *report.statuses.entry(o.status.as_str()).or_default() += 1;
                }
                match outcome {
                    Ok(ImportOutcome { created: true, .. }) => report.created += 1,
                    Ok(ImportOutcome { changed: true, .. }) => report.changed += 1,
                    Ok(_) => report.unchanged += 1,
                    Err(StoreError::Rejected(r)) => report.rejected.push((order.external_id.clone(), r.to_string())),
                    Err(e) => return Err(e),
                }
            }
            s.set_import_cursor(channel, cursor.as_deref(), None)?;
            Ok(report)
        })
    }

    /// Records a failed import attempt (the cursor stays).
    pub async fn import_failed(&self, channel: ChannelId, error: String) -> Result<()> {
        on_writer!(self, Isolation::Savepoint, |s| s.set_import_cursor(channel, None, Some(&error)))
    }

    pub async fn import_cursor(&self, channel: ChannelId) -> Result<Option<String>> {
        on_reader!(self, |c, db| db::push::import_cursor(c, channel))
    }
}

/// What a listing import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListingReport {
    pub created: usize,
    pub updated: usize,
    /// New listings whose channel SKU names no item (yet).
    pub unmapped: usize,
    /// Quantities read into the channel's `source_fc`.
    pub quantities: usize,
}

impl Store {
    /// Records a channel's listings: new channel SKUs become listings
    /// (linked by SKU or alias), known ones get their external ids. With
    /// `import_quantities` on, each mapped stock item's quantity there
    /// becomes `available` at the channel's `source_fc`. One transaction.
    pub async fn import_listings(
        &self,
        channel: ChannelId,
        listings: Vec<(String, Option<String>, Option<i64>)>,
        actor: &str,
    ) -> Result<ListingReport> {
        let actor = actor.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| s.import_listings(channel, &listings, &actor))
    }
}
