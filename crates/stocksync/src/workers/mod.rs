//! Background workers, each a step (`run_once`) that tests drive directly
//! and a loop (`run`) that the server spawns with a shutdown signal.
//!
//! - `channels`: the connectors of every channel, rebuilt when settings change.
//! - `push`: the outbox of PRODUCT.md §4: latest value wins, zeros first,
//!   per-listing failure isolation, one loop per channel.
//! - `import`: order polling per channel with an overlap window, and
//!   webhook payloads through the same idempotent ingest.
//! - `latency`: push latencies per channel for `/sync/status` and `/metrics`.
//! - `leases`: which channels this process works on when several share a database.

pub mod channels;
pub mod import;
pub mod latency;
pub mod leases;
pub mod push;

use std::time::{SystemTime, UNIX_EPOCH};

use stocksync_core::Timestamp;

/// The wall clock, in the store's unit.
pub fn now() -> Timestamp {
    Timestamp(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64))
}

/// Resolves when `shutdown` flips to true (or its sender is gone).
pub async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

/// How often channel settings are re-read and new channels looked for.
pub const CHANNELS_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// Keeps one `run_loop(channel id, shutdown)` task going for every channel
/// `wanted` selects whose lease this process holds, starting loops for
/// channels added or taken over (or whose loop ended) as they appear and
/// stopping those whose lease was lost, until `shutdown`; then stops them all.
pub async fn supervise<Fut>(
    channels: &channels::Channels,
    leases: &leases::Leases,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    wanted: impl Fn(&channels::Live) -> bool,
    run_loop: impl Fn(i64, tokio::sync::watch::Receiver<bool>) -> Fut,
) where
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    let mut running: std::collections::HashMap<i64, tokio::task::AbortHandle> = Default::default();
    let mut lease_changes = leases.changes();
    loop {
        lease_changes.borrow_and_update();
        running.retain(|&id, task| {
            let keep = leases.holds(id);
            if !keep {
                tracing::info!(channel.id = id, "lease lost: stopping the channel's loop");
                task.abort();
            }
            keep
        });
        match channels.load().await {
            Ok(live) => {
                for ch in live.iter().filter(|c| wanted(c) && leases.holds(c.view.id)) {
                    if running.get(&ch.view.id).is_some_and(|h| !h.is_finished()) {
                        continue;
                    }
                    running.insert(ch.view.id, tasks.spawn(run_loop(ch.view.id, shutdown.clone())));
                }
            }
            Err(e) => tracing::error!(error = %e, "loading channels failed"),
        }
        // Reap finished loops so the set does not grow.
        while tasks.try_join_next().is_some() {}
        tokio::select! {
            () = tokio::time::sleep(CHANNELS_REFRESH) => {}
            Ok(()) = lease_changes.changed() => {}
            () = stopped(&mut shutdown) => break,
        }
    }
    tasks.shutdown().await;
}
