//! Background workers, each a step (`run_once`) that tests drive directly
//! and a loop (`run`) that the server spawns with a shutdown signal.
//!
//! - `channels`: the connectors of every channel, rebuilt when settings change.
//! - `push`: the outbox of PRODUCT.md §4: latest value wins, zeros first,
//!   per-listing failure isolation, one loop per channel.
//! - `import`: order polling per channel with an overlap window, and
//!   webhook payloads through the same idempotent ingest.
//! - `latency`: push latencies per channel for `/sync/status` and `/metrics`.

pub mod channels;
pub mod import;
pub mod latency;
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
