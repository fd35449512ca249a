//! Push latency per channel: from the stock change being marked to the
//! channel acknowledging the new value. Kept as the most recent samples
//! (bounded) for percentiles in `/sync/status`, and recorded as a
//! Prometheus histogram.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

/// Samples kept per channel: enough for a stable p99.
const SAMPLES_MAX: usize = 2000;

#[derive(Debug, Default)]
pub struct LatencyBook(Mutex<HashMap<i64, VecDeque<f64>>>);

impl LatencyBook {
    pub fn record(&self, channel: i64, ms: f64) {
        metrics::histogram!("stocksync_push_latency_seconds", "channel" => channel.to_string()).record(ms / 1000.0);
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let q = map.entry(channel).or_default();
        if q.len() == SAMPLES_MAX {
            q.pop_front();
        }
        q.push_back(ms);
    }

    /// `(p50, p99)` in milliseconds, if any push was acknowledged.
    pub fn percentiles(&self, channel: i64) -> Option<(f64, f64)> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut v: Vec<f64> = map.get(&channel)?.iter().copied().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        Some((at(0.50), at(0.99)))
    }
}
