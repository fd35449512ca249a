//! Channel leases (PRODUCT.md §7): with several `serve` processes on one
//! database, each channel's workers (order import and pushes) run in the
//! one process holding the channel's lease, so each channel sees one
//! client, within its rate limits. A holder renews its leases every
//! second; when it dies, another process takes its channels over once the
//! leases have run out, a few seconds later.
//!
//! A process believes it holds a lease only until shortly before it runs
//! out (`MARGIN`), so by the time another process may take a channel over,
//! the old holder has stopped starting work on it. Pushes it had already
//! started stay claimed in the store (`Store::claim_pushes`) until answered
//! or expired.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use stocksync_core::Timestamp;
use stocksync_store::Store;
use tokio::sync::watch;

use super::channels::Channels;
use super::{now, stopped};

/// How long a lease lasts from its last renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(5);
/// How often a process renews its leases and looks for free ones.
const RENEW_EVERY: Duration = Duration::from_secs(1);
/// A lease with less than this left counts as lost.
const MARGIN: Duration = Duration::from_secs(2);

/// Which channels this process may work on.
#[derive(Debug, Clone)]
pub struct Leases {
    holder: Arc<str>,
    /// `None`: the only process (tests, `demo`, `bench`): every channel is its own.
    held: Option<Arc<Mutex<HashMap<i64, Timestamp>>>>,
    changed: Arc<watch::Sender<u64>>,
}

impl Default for Leases {
    fn default() -> Self {
        Self::sole()
    }
}

impl Leases {
    /// For a process that is alone on its database: holds every channel.
    pub fn sole() -> Self {
        Self::with_held(None)
    }

    /// For `serve`: holds the channels whose leases `run` takes.
    pub fn shared() -> Self {
        Self::with_held(Some(Arc::default()))
    }

    fn with_held(held: Option<Arc<Mutex<HashMap<i64, Timestamp>>>>) -> Self {
        let holder = format!("pid{}-{:08x}", std::process::id(), fastrand::u32(..));
        Self { holder: holder.into(), held, changed: Arc::new(watch::channel(0).0) }
    }

    /// This process's name in the store's leases and push claims.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Whether this process may work on `channel` now.
    pub fn holds(&self, channel: i64) -> bool {
        let Some(held) = &self.held else { return true };
        let until = held.lock().unwrap_or_else(PoisonError::into_inner).get(&channel).copied();
        until.is_some_and(|t| t.0 - now().0 > MARGIN.as_millis() as i64)
    }

    /// Ticks when the set of channels held changes.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Renews and takes leases every second until `shutdown`, then gives
    /// them up so another process can take over at once. Does nothing for
    /// a sole process.
    pub async fn run(self, store: Store, channels: Channels, mut shutdown: watch::Receiver<bool>) {
        let Some(held) = &self.held else { return };
        loop {
            match self.renew(&store, &channels).await {
                Ok(now_held) => {
                    let mut map = held.lock().unwrap_or_else(PoisonError::into_inner);
                    let before: Vec<i64> = map.keys().copied().collect();
                    let gained = now_held.iter().any(|(id, _)| !map.contains_key(id));
                    *map = now_held.into_iter().collect();
                    let lost = before.iter().any(|id| !map.contains_key(id));
                    drop(map);
                    if gained || lost {
                        tracing::info!(holder = %self.holder, gained, lost, "channel leases changed");
                        self.changed.send_modify(|v| *v = v.wrapping_add(1));
                    }
                }
                // What it held runs out by itself (`holds` looks at the expiry).
                Err(e) => tracing::warn!(error = %e, "renewing channel leases failed"),
            }
            tokio::select! {
                () = tokio::time::sleep(RENEW_EVERY) => {}
                () = stopped(&mut shutdown) => break,
            }
        }
        held.lock().unwrap_or_else(PoisonError::into_inner).clear();
        if let Err(e) = store.release_leases(&self.holder).await {
            tracing::warn!(error = %e, "releasing channel leases failed; they run out by themselves");
        }
    }

    async fn renew(&self, store: &Store, channels: &Channels) -> anyhow::Result<Vec<(i64, Timestamp)>> {
        let ids = channels.load().await?.iter().map(|c| c.view.id).collect();
        Ok(store.hold_leases(&self.holder, ids, LEASE_TTL).await?)
    }
}
