//! The push worker (PRODUCT.md §4). One step takes the outbox into
//! per-listing desired values; then each channel, in its own loop, sends
//! what is due (zeros first, in batches its API allows) and records each
//! listing's answer. A failing listing is retried with backoff and never
//! holds back the others; a slow or failing channel never holds back
//! another channel.

use std::sync::Arc;
use std::time::Duration;

use stocksync_channels::model::ErrorKind;
use stocksync_channels::{ChannelError, PushEntry};
use stocksync_core::Timestamp;
use stocksync_store::{PushAnswer, Store, Taken};
use tokio::sync::watch;

use super::channels::{Channels, Live};
use super::latency::{LatencyBook, PushEvent};
use super::leases::Leases;
use super::{now, stopped};

/// Queue rows taken per transaction: bounds one step's work.
const QUEUE_ROWS_PER_TAKE: usize = 1000;
/// Listings read per channel per step (then sent in connector-sized batches).
const DUE_PER_STEP: usize = 1000;
/// How long an idle loop waits for a wake-up before looking anyway, in
/// milliseconds. Commits that mark the outbox wake the taker at once, and
/// the taker wakes the channel loops; this bounds a missed wake-up and
/// picks up retries that come due.
const IDLE_POLL_MS: u64 = 50;
/// Longest wait before retrying a failed listing.
const RETRY_MAX: Duration = Duration::from_secs(600);
/// Longest a connector may take over one batch (its retries included)
/// before the batch counts as failed: well inside the claim on its rows
/// (`stocksync_store::CLAIM_TTL_MS`), so no other process can send those
/// listings while this batch may still be in flight.
const PUSH_BATCH_MAX_TIME: Duration = Duration::from_secs(35);
/// A batch step (claim, call, record) slower than this is logged, with
/// where its time went: a stalled channel shows in the log, not only in
/// the latency percentiles.
const SLOW_STEP: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct PushWorker {
    store: Store,
    channels: Channels,
    latency: Arc<LatencyBook>,
    /// The channels this process may push to, and its name on push claims.
    leases: Leases,
    /// Ticks when the taker made pushes due, waking the channel loops.
    due: Arc<watch::Sender<u64>>,
}

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    pub taken: Taken,
    pub sent: usize,
    pub failed: usize,
}

impl PushWorker {
    pub fn new(store: Store, channels: Channels, latency: Arc<LatencyBook>) -> Self {
        Self { store, channels, latency, leases: Leases::sole(), due: Arc::new(watch::channel(0).0) }
    }

    /// Pushes only to the channels whose lease `leases` holds.
    pub fn with_leases(self, leases: Leases) -> Self {
        Self { leases, ..self }
    }

    /// Takes the outbox, then gives every channel one push step, one after
    /// another: deterministic, for tests. `run` gives each channel its own loop.
    pub async fn run_once(&self) -> anyhow::Result<Outcome> {
        let taken = self.store.take_push_queue(QUEUE_ROWS_PER_TAKE).await?;
        let mut out = Outcome { taken, ..Outcome::default() };
        for ch in self.channels.load().await? {
            let (sent, failed) = self.push_channel(&ch).await?;
            out.sent += sent;
            out.failed += failed;
        }
        Ok(out)
    }

    /// Sends what is due on one channel, a connector-sized batch at a time,
    /// each claimed once the channel's limits let a call out, and sent at
    /// once; returns `(sent, failed)` listings.
    pub async fn push_channel(&self, ch: &Live) -> anyhow::Result<(usize, usize)> {
        if !ch.view.settings.push_quantities {
            return Ok((0, 0));
        }
        let batch = ch.connector.push_batch_max().max(1);
        let (mut sent, mut failed) = (0, 0);
        while sent + failed < DUE_PER_STEP && self.leases.holds(ch.view.id) {
            // Wait for the channel's limits before choosing the batch, not
            // after: changes made during the wait go out in this call.
            ch.connector.push_ready().await;
            let started = std::time::Instant::now();
            let chunk = self.store.claim_pushes(ch.view.id, self.leases.holder(), now(), batch).await?;
            if chunk.is_empty() {
                break;
            }
            let claimed = started.elapsed();
            let entries: Vec<PushEntry> = chunk
                .iter()
                .map(|d| PushEntry {
                    channel_sku: d.channel_sku.clone(),
                    sku: d.sku.clone(),
                    external_id: d.external_id.clone(),
                    quantity: d.quantity,
                    version: d.version,
                })
                .collect();
            let results =
                tokio::time::timeout(PUSH_BATCH_MAX_TIME, ch.connector.push(&entries)).await.unwrap_or_else(|_| {
                    let e = || ChannelError::transient(format!("no answer within {PUSH_BATCH_MAX_TIME:?}"));
                    entries.iter().map(|_| Err(e())).collect()
                });
            let called = started.elapsed() - claimed;
            let at = now();
            let mut answers = Vec::with_capacity(chunk.len());
            for (d, r) in chunk.iter().zip(results) {
                self.latency.note(PushEvent {
                    at,
                    channel: ch.view.id,
                    channel_sku: d.channel_sku.clone(),
                    quantity: d.quantity,
                    latency_ms: (at.0 - d.since.0).max(0) as f64,
                    error: r.as_ref().err().map(ToString::to_string),
                });
                let outcome = match r {
                    Ok(()) => {
                        sent += 1;
                        self.latency.record(ch.view.id, (at.0 - d.since.0).max(0) as f64);
                        metrics::counter!("stocksync_pushes_total", "channel" => ch.view.name.clone(), "result" => "ok").increment(1);
                        Ok(())
                    }
                    Err(e) => {
                        failed += 1;
                        metrics::counter!("stocksync_pushes_total", "channel" => ch.view.name.clone(), "result" => "failed").increment(1);
                        tracing::warn!(channel.id = ch.view.id, listing = %d.channel_sku, attempts = d.attempts + 1, error = %e, "push failed");
                        Err((e.to_string(), retry_at(at, d.attempts, &e)))
                    }
                };
                answers.push(PushAnswer {
                    listing_id: d.listing_id,
                    version: d.version,
                    quantity: d.quantity,
                    outcome,
                });
            }
            self.store.record_pushes(answers).await?;
            if started.elapsed() >= SLOW_STEP {
                tracing::warn!(
                    channel.id = ch.view.id,
                    entries = chunk.len(),
                    claim_ms = claimed.as_millis() as u64,
                    call_ms = called.as_millis() as u64,
                    record_ms = (started.elapsed() - claimed - called).as_millis() as u64,
                    "slow push batch"
                );
            }
        }
        Ok((sent, failed))
    }

    /// Runs until `shutdown`: one loop takes the outbox, one loop per
    /// channel whose lease this process holds pushes.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let taker = self.clone();
        let mut stop = shutdown.clone();
        let taking = tokio::spawn(async move {
            let mut marked = taker.store.outbox_changes();
            loop {
                marked.borrow_and_update();
                let worked = match taker.store.take_push_queue(QUEUE_ROWS_PER_TAKE).await {
                    Ok(t) => {
                        if t.listings_marked > 0 {
                            taker.due.send_modify(|v| *v = v.wrapping_add(1));
                        }
                        t.queue_rows > 0
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "taking the push outbox failed");
                        false
                    }
                };
                if !worked {
                    tokio::select! {
                        Ok(()) = marked.changed() => {}
                        () = tokio::time::sleep(Duration::from_millis(IDLE_POLL_MS)) => {}
                        () = stopped(&mut stop) => return,
                    }
                }
            }
        });
        let channels = self.channels.clone();
        super::supervise(
            &channels,
            &self.leases,
            shutdown,
            |_| true,
            |id, stop| {
                let worker = self.clone();
                async move { worker.channel_loop(id, stop).await }
            },
        )
        .await;
        // It stops on the same signal.
        let _ = taking.await;
    }

    async fn channel_loop(&self, id: i64, mut stop: watch::Receiver<bool>) {
        let mut refreshed = tokio::time::Instant::now();
        let mut ch: Option<Live> = None;
        let mut due = self.due.subscribe();
        loop {
            due.borrow_and_update();
            if ch.is_none() || refreshed.elapsed() >= super::CHANNELS_REFRESH {
                ch = self.channels.load().await.ok().and_then(|l| l.into_iter().find(|c| c.view.id == id));
                refreshed = tokio::time::Instant::now();
            }
            let Some(live) = &ch else { return };
            let worked = match self.push_channel(live).await {
                Ok((sent, failed)) => sent + failed > 0,
                Err(e) => {
                    tracing::error!(channel.id = id, error = %e, "push step failed");
                    false
                }
            };
            if !worked {
                tokio::select! {
                    Ok(()) = due.changed() => {}
                    () = tokio::time::sleep(Duration::from_millis(IDLE_POLL_MS)) => {}
                    () = stopped(&mut stop) => return,
                }
            }
        }
    }
}

/// When to try a failed listing again: what the channel asked for, else
/// exponential backoff with jitter, capped.
fn retry_at(now: Timestamp, attempts: i64, e: &ChannelError) -> Timestamp {
    let backoff = Duration::from_millis(500u64.saturating_mul(1 << attempts.clamp(0, 20))).min(RETRY_MAX);
    let wait = match e.kind {
        ErrorKind::Throttled(Some(after)) => after.max(Duration::from_millis(100)),
        _ => backoff.mul_f64(0.5 + fastrand::f64() / 2.0),
    };
    Timestamp(now.0 + wait.as_millis() as i64)
}
