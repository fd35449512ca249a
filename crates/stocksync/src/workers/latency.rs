//! Push latency per channel: from the stock change being marked to the
//! channel acknowledging the new value. Kept as the most recent samples
//! (bounded) for percentiles in `/sync/status`, and recorded as a
//! Prometheus histogram. The most recent push results are kept too, for
//! the web UI's activity page (in memory: since this process started).

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

use stocksync_core::Timestamp;

/// Samples kept per channel: enough for a stable p99.
const SAMPLES_MAX: usize = 2000;
/// Push results kept for the activity page: a few screens.
const EVENTS_MAX: usize = 500;

/// One listing's push and how the channel answered.
#[derive(Debug, Clone, PartialEq)]
pub struct PushEvent {
    pub at: Timestamp,
    pub channel: i64,
    pub channel_sku: String,
    pub quantity: i64,
    /// From the change being marked to the answer, in ms.
    pub latency_ms: f64,
    /// The channel's error, if it refused or failed.
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct LatencyBook {
    samples: Mutex<HashMap<i64, VecDeque<f64>>>,
    events: Mutex<VecDeque<PushEvent>>,
}

impl LatencyBook {
    pub fn record(&self, channel: i64, ms: f64) {
        metrics::histogram!("stocksync_push_latency_seconds", "channel" => channel.to_string()).record(ms / 1000.0);
        let mut map = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        let q = map.entry(channel).or_default();
        if q.len() == SAMPLES_MAX {
            q.pop_front();
        }
        q.push_back(ms);
    }

    /// `(p50, p99)` in milliseconds, if any push was acknowledged.
    pub fn percentiles(&self, channel: i64) -> Option<(f64, f64)> {
        let map = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        let mut v: Vec<f64> = map.get(&channel)?.iter().copied().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        Some((at(0.50), at(0.99)))
    }

    /// Keeps a push's outcome for the activity page.
    pub fn note(&self, event: PushEvent) {
        let mut q = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        if q.len() == EVENTS_MAX {
            q.pop_front();
        }
        q.push_back(event);
    }

    /// The newest `n` push outcomes, newest first.
    pub fn recent(&self, n: usize) -> Vec<PushEvent> {
        let q = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        q.iter().rev().take(n).cloned().collect()
    }
}
