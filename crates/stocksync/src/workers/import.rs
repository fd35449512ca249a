//! Order import: each channel that is polled gets one loop, every
//! `poll_interval_s`, fetching orders changed since its cursor minus an
//! overlap window (clock skew, late updates), and importing them with the
//! new cursor in one transaction. Webhook payloads go through the same
//! idempotent ingest, so a webhook and a poll seeing the same change apply it once.
//! The channel's listings are read before its first poll and then in a loop
//! of their own beside the polls, spaced so a long catalog walk (minutes on
//! a big Shopify store) takes a small share of the channel's API.

use std::time::Duration;

use stocksync_channels::RemoteOrder;
use stocksync_channels::clock::Clock;
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_core::{ChannelId, Timestamp};
use stocksync_store::{ImportReport, Store};
use tokio::sync::watch;

use super::channels::{Channels, Live};
use super::leases::Leases;
use super::stopped;

/// How far back a poll reaches before the cursor, most of the time: covers
/// clock skew between us and the channel and an order that becomes visible
/// a little after its modification time. Re-reading is harmless (idempotent
/// ingest) but not free: at 60 orders/s a 5-minute overlap re-reads 18,000
/// orders on every poll, which would eat the channel's request budget.
pub const OVERLAP_MS: i64 = 15 * 1000;
/// Once a minute a poll reaches this far back instead, for orders that
/// surface late (eBay and Amazon index changes asynchronously; see
/// `Connector::lists_changes_late`).
pub const DEEP_OVERLAP_MS: i64 = 5 * 60 * 1000;
/// How often a channel's poll uses the deep overlap.
pub const DEEP_EVERY: Duration = Duration::from_secs(60);
/// Where a channel's first poll starts: recent orders only.
pub const FIRST_POLL_LOOKBACK_MS: i64 = 24 * 3600 * 1000;
/// How often a channel's listings are read again at most (new listings,
/// changed external ids, imported quantities). Listings change rarely;
/// reading them costs a full catalog walk of the channel's API.
pub const LISTINGS_REFRESH: Duration = Duration::from_secs(600);
/// A walk may take at most one part in this many of the time between walks:
/// a catalog that takes 8 minutes to read (12,000 Shopify variants in its
/// cost bucket) is read every 40 minutes, not every 10.
const LISTINGS_DUTY: u32 = 5;
/// When a listings read failed, the next try comes this much later.
const LISTINGS_RETRY: Duration = Duration::from_secs(60);

/// How long after a listings read (that took `took`) the next one starts.
fn next_listings_read(took: Duration, ok: bool) -> Duration {
    if ok { LISTINGS_REFRESH.max(took * LISTINGS_DUTY) } else { LISTINGS_RETRY }
}

#[derive(Debug, Clone)]
pub struct ImportWorker {
    store: Store,
    channels: Channels,
    /// "Now" for a poll's window (the system clock unless a test sets one).
    clock: Clock,
    /// When each channel's poll last used the deep overlap.
    deep: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<i64, tokio::time::Instant>>>,
}

/// Turns a channel's order into the core's validated form.
///
/// Channels report a line whose units were all removed (an edit, a refund,
/// a cancelled line) with quantity 0: it is left out, which the workflow
/// reads as a removed line. An order with no units left at all holds
/// nothing: it is imported as cancelled, its lines kept with one unit each
/// (an order needs lines; a cancelled one allocates nothing).
pub fn incoming(channel: i64, o: &RemoteOrder) -> Result<IncomingOrder, stocksync_core::Rejection> {
    let line = |l: &stocksync_channels::RemoteLine, q: u32| (l.line_id.clone(), l.channel_sku.clone(), i64::from(q));
    let live: Vec<_> = o.lines.iter().filter(|l| l.quantity > 0).map(|l| line(l, l.quantity)).collect();
    let (status, lines) = if live.is_empty() && !o.lines.is_empty() {
        (SourceStatus::Cancelled, o.lines.iter().map(|l| line(l, 1)).collect())
    } else {
        (o.status, live)
    };
    IncomingOrder::new(ChannelId(channel), &o.external_id, status, o.placed_at, Some(o.updated_at), &lines)
}

impl ImportWorker {
    pub fn new(store: Store, channels: Channels) -> Self {
        Self { store, channels, clock: Clock::system(), deep: Default::default() }
    }

    /// The same worker reading `clock` for the end of each poll's window. A
    /// test moves it (with the simulators' and connectors' clocks) past
    /// Amazon's two-minute rule instead of waiting.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Imports already-fetched orders (a webhook's), leaving the cursor alone.
    pub async fn ingest(&self, channel: i64, orders: &[RemoteOrder], actor: &str) -> anyhow::Result<ImportReport> {
        let (valid, mut rejected) = split(channel, orders);
        let mut report = self.store.import_orders(ChannelId(channel), valid, None, actor).await?;
        report.rejected.append(&mut rejected);
        record_import("webhook", &report);
        Ok(report)
    }

    /// One poll of one channel.
    pub async fn poll(&self, ch: &Live) -> anyhow::Result<ImportReport> {
        let id = ChannelId(ch.view.id);
        if !ch.view.settings.import_orders {
            // Off means off: nothing is read, nothing deducted (PRODUCT.md §5).
            return Ok(ImportReport::default());
        }
        let until = ch.connector.window_end(self.clock.now());
        let cursor = self.store.import_cursor(id).await?.and_then(|c| c.parse::<i64>().ok());
        let overlap = {
            let mut deep = self.deep.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let due =
                ch.connector.lists_changes_late() && deep.get(&ch.view.id).is_none_or(|t| t.elapsed() >= DEEP_EVERY);
            if due {
                deep.insert(ch.view.id, tokio::time::Instant::now());
            }
            if due { DEEP_OVERLAP_MS } else { OVERLAP_MS }
        };
        let since = Timestamp(cursor.map_or(until.0 - FIRST_POLL_LOOKBACK_MS, |c| c - overlap));
        let orders = match ch.connector.fetch_orders(since, until).await {
            Ok(o) => o,
            Err(e) => {
                self.store.import_failed(id, e.to_string()).await?;
                anyhow::bail!("fetching orders from {}: {e}", ch.view.name);
            }
        };
        let (valid, mut rejected) = split(ch.view.id, &orders);
        let actor = format!("import:{}", ch.view.name);
        let mut report = self.store.import_orders(id, valid, Some(until.0.to_string()), &actor).await?;
        report.rejected.append(&mut rejected);
        for (ext, why) in &report.rejected {
            tracing::warn!(channel.id = ch.view.id, order.external_id = %ext, reason = %why, "order not imported");
        }
        record_import("poll", &report);
        Ok(report)
    }

    /// Reads the channel's listings: links new ones by SKU or alias, keeps
    /// external ids current, and imports quantities when the channel says so.
    pub async fn sync_listings(&self, ch: &Live) -> anyhow::Result<stocksync_store::ListingReport> {
        let remote = ch.connector.fetch_listings().await.map_err(|e| anyhow::anyhow!("reading listings: {e}"))?;
        let rows = remote.into_iter().map(|l| (l.channel_sku, l.external_id, l.quantity)).collect();
        let actor = format!("import:{}", ch.view.name);
        Ok(self.store.import_listings(ChannelId(ch.view.id), rows, &actor).await?)
    }

    /// Runs until `shutdown`: one loop per polled channel whose lease
    /// `leases` holds.
    pub async fn run(self, leases: Leases, shutdown: watch::Receiver<bool>) {
        let channels = self.channels.clone();
        super::supervise(
            &channels,
            &leases,
            shutdown,
            |c| c.connector.polls_orders(),
            |id, stop| {
                let worker = self.clone();
                async move { worker.channel_loop(id, stop).await }
            },
        )
        .await;
    }

    /// One channel: its listings are read before its first poll (so orders
    /// find their listings linked), then again beside the polls in their
    /// own loop, so a catalog walk never holds order imports back.
    async fn channel_loop(&self, id: i64, stop: watch::Receiver<bool>) {
        let Some(wait) = self.read_listings(id).await else { return };
        tokio::join!(self.listings_loop(id, wait, stop.clone()), self.orders_loop(id, stop));
    }

    async fn listings_loop(&self, id: i64, mut wait: Duration, mut stop: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stopped(&mut stop) => return,
            }
            match self.read_listings(id).await {
                Some(next) => wait = next,
                None => return,
            }
        }
    }

    /// Reads one channel's listings; returns when to read them next, or
    /// `None` when the channel is gone.
    async fn read_listings(&self, id: i64) -> Option<Duration> {
        let ch = self.channels.load().await.ok()?.into_iter().find(|c| c.view.id == id)?;
        let started = tokio::time::Instant::now();
        let result = self.sync_listings(&ch).await;
        let took = started.elapsed();
        match &result {
            Ok(r) => tracing::debug!(
                channel.id = id,
                created = r.created,
                updated = r.updated,
                unmapped = r.unmapped,
                took_ms = took.as_millis() as u64,
                "listings read"
            ),
            Err(e) => tracing::warn!(
                channel.id = id,
                error = %e,
                retry_in_s = LISTINGS_RETRY.as_secs(),
                "reading listings failed"
            ),
        }
        Some(next_listings_read(took, result.is_ok()))
    }

    async fn orders_loop(&self, id: i64, mut stop: watch::Receiver<bool>) {
        loop {
            let Some(ch) = self.channels.load().await.ok().and_then(|l| l.into_iter().find(|c| c.view.id == id)) else {
                return;
            };
            if ch.view.settings.import_orders
                && let Err(e) = self.poll(&ch).await
            {
                tracing::warn!(channel.id = id, error = %e, "order import failed; retrying at the next poll");
            }
            let interval = Duration::from_secs(u64::from(ch.view.settings.poll_interval_s.max(1)));
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = stopped(&mut stop) => return,
            }
        }
    }
}

/// Counts an import batch's outcomes in `/metrics`.
fn record_import(source: &'static str, r: &ImportReport) {
    for (outcome, n) in
        [("created", r.created), ("changed", r.changed), ("unchanged", r.unchanged), ("rejected", r.rejected.len())]
    {
        if n > 0 {
            metrics::counter!("stocksync_order_imports_total", "source" => source, "outcome" => outcome)
                .increment(n as u64);
        }
    }
    for (status, n) in &r.statuses {
        metrics::counter!("stocksync_allocations_total", "status" => *status).increment(*n as u64);
    }
}

/// Orders that pass validation, and the others with their reasons.
fn split(channel: i64, orders: &[RemoteOrder]) -> (Vec<IncomingOrder>, Vec<(String, String)>) {
    let mut valid = Vec::with_capacity(orders.len());
    let mut rejected = Vec::new();
    for o in orders {
        match incoming(channel, o) {
            Ok(i) => valid.push(i),
            Err(e) => rejected.push((o.external_id.clone(), e.to_string())),
        }
    }
    (valid, rejected)
}

#[cfg(test)]
mod tests {
    use stocksync_channels::{RemoteLine, RemoteOrder};
    use stocksync_core::Timestamp;
    use stocksync_core::order::SourceStatus;

    fn order(status: SourceStatus, quantities: &[u32]) -> RemoteOrder {
        let lines = quantities
            .iter()
            .enumerate()
            .map(|(i, &quantity)| RemoteLine { line_id: format!("{i}"), channel_sku: format!("S-{i}"), quantity })
            .collect();
        RemoteOrder { external_id: "X".into(), status, placed_at: Timestamp(1), updated_at: Timestamp(2), lines }
    }

    #[test]
    fn a_slow_catalog_walk_is_spaced_out_and_a_failed_one_retried_soon() {
        use std::time::Duration;
        let next = super::next_listings_read;
        assert_eq!(next(Duration::from_secs(24), true), super::LISTINGS_REFRESH);
        assert_eq!(
            next(Duration::from_secs(480), true),
            Duration::from_secs(2400),
            "8 minutes of walking: 40 minutes apart"
        );
        assert_eq!(next(Duration::from_secs(480), false), super::LISTINGS_RETRY);
    }

    #[test]
    fn removed_lines_are_left_out_and_an_empty_order_is_cancelled() {
        let o = super::incoming(1, &order(SourceStatus::Open, &[2, 0, 1])).unwrap();
        let ids: Vec<&str> = o.lines.iter().map(|l| l.line_id.as_str()).collect();
        assert_eq!((o.status, ids), (SourceStatus::Open, vec!["0", "2"]));
        let o = super::incoming(1, &order(SourceStatus::Open, &[0, 0])).unwrap();
        assert_eq!((o.status, o.lines.len()), (SourceStatus::Cancelled, 2));
        let o = super::incoming(1, &order(SourceStatus::Cancelled, &[0])).unwrap();
        assert_eq!(o.status, SourceStatus::Cancelled);
    }
}
