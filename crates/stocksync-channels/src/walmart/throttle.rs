//! Walmart's call allowances: every answer says how many calls are left in
//! the current window (`x-current-token-count`) and when it refills
//! (`x-next-replenish-time`; Walmart's docs also spell it
//! `X-Next-Replenishment-Time`). At zero the connector stops calling until
//! the refill instead of spending calls on 429s; a 429 waits for it too.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::Response;

use crate::clock::system_now;
use crate::http::retry_after;
use crate::model::ChannelError;

const COUNT_HEADER: &str = "x-current-token-count";
const REPLENISH_HEADERS: [&str; 2] = ["x-next-replenish-time", "x-next-replenishment-time"];
/// Values above this are epoch milliseconds; between it and
/// `EPOCH_S_MIN` epoch seconds; below, seconds from now. Walmart's docs show
/// epoch milliseconds; the other readings cost nothing.
const EPOCH_MS_MIN: i64 = 100_000_000_000;
const EPOCH_S_MIN: i64 = 1_000_000_000;

/// When the window refills, in epoch milliseconds, from the headers.
fn replenish_at(res: &Response) -> Option<i64> {
    let raw = REPLENISH_HEADERS.iter().find_map(|h| res.headers().get(*h))?.to_str().ok()?.trim();
    let value: i64 = raw.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0)? as i64;
    Some(if value >= EPOCH_MS_MIN {
        value
    } else if value >= EPOCH_S_MIN {
        value * 1000
    } else {
        system_now().millis() + value * 1000
    })
}

/// What a 429 asks to wait: until the replenish time, else `Retry-After`.
pub fn wait_from_headers(res: &Response) -> Option<Duration> {
    match replenish_at(res) {
        Some(at) => Some(Duration::from_millis(u64::try_from(at - system_now().millis()).unwrap_or(0))),
        None => retry_after(res),
    }
}

/// The pause the last answer asked for. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct Replenish(Arc<Mutex<Option<i64>>>);

impl Replenish {
    /// Notes a pause when the answer says no calls are left.
    pub fn observe(&self, res: &Response) {
        let left =
            res.headers().get(COUNT_HEADER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
        if left.is_some_and(|n| n < 1.0)
            && let Some(at) = replenish_at(res)
        {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(at);
        }
    }

    /// Waits out a pause up to `max`; a longer one is the caller's to
    /// reschedule (`Throttled` with the time left).
    pub async fn wait(&self, max: Duration) -> Result<(), ChannelError> {
        let until = *self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(until) = until else { return Ok(()) };
        let left = until - system_now().millis();
        if left > 0 {
            let left = Duration::from_millis(left.unsigned_abs());
            if left > max {
                return Err(ChannelError::throttled(
                    Some(left),
                    format!("Walmart: no calls left until the window refills in {} s", left.as_secs()),
                ));
            }
            tokio::time::sleep(left).await;
        }
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if *held == Some(until) {
            *held = None;
        }
        Ok(())
    }
}
