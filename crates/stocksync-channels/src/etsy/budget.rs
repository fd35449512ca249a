//! Etsy's daily request budget (10,000 a day per app by default, over a
//! sliding 24 hours [doc: rate-limits]). Every answer says what is left
//! (`x-remaining-today` of `x-limit-per-day`). The last of it is kept for
//! pushes of zero: a listing that sells out must still go to 0 when the
//! day's budget is nearly spent, or it would oversell until the budget
//! frees up. At zero the connector stops calling and answers `Throttled`
//! without spending a request. Etsy does not say when its sliding window
//! frees the next request, so the connector waits `DAY_EXHAUSTED_PAUSE`
//! and tries again, or as long as a 429's `retry-after` asks.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::Response;
use stocksync_core::Timestamp;

use crate::model::ChannelError;

/// How long the connector stops after the budget (or all but its reserve)
/// is spent: an hour between tries spends at most 24 requests a day on
/// finding out whether the window has moved.
pub const DAY_EXHAUSTED_PAUSE: Duration = Duration::from_secs(3600);
/// Requests of the day kept for pushes of zero: 1% of `x-limit-per-day`,
/// at least 10 (five listings sold out, at a read and a write each).
pub const ZERO_RESERVE_PERCENT: i64 = 1;
pub const ZERO_RESERVE_MIN: i64 = 10;

#[derive(Debug, Default)]
struct Held {
    /// No call at all before this.
    paused_until: Option<Timestamp>,
    /// Only pushes of zero before this (the rest is the reserve).
    reserved_until: Option<Timestamp>,
}

/// What the last answers said of the day's budget. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct DayBudget(Arc<Mutex<Held>>);

fn header(res: &Response, name: &str) -> Option<i64> {
    res.headers().get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok())
}

fn later(now: Timestamp, wait: Duration) -> Timestamp {
    Timestamp(now.millis().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)))
}

impl DayBudget {
    /// Refuses a call while the budget is spent, or while only the reserve
    /// is left and this call is not part of a push of zero.
    pub fn check(&self, now: Timestamp, zero_push: bool) -> Result<(), ChannelError> {
        let held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let refuse = |until: Timestamp, what: &str| {
            let left = Duration::from_millis((until.millis() - now.millis()).unsigned_abs());
            Err(ChannelError::throttled(Some(left), format!("Etsy: {what}; next try in {} s", left.as_secs())))
        };
        match (held.paused_until, held.reserved_until) {
            (Some(until), _) if until > now => refuse(until, "the day's request budget is spent"),
            (_, Some(until)) if until > now && !zero_push => {
                refuse(until, "the rest of the day's request budget is kept for pushes of zero")
            }
            _ => Ok(()),
        }
    }

    /// Reads `x-remaining-today` and `x-limit-per-day` from an answer.
    pub fn observe(&self, res: &Response, now: Timestamp) {
        let Some(remaining) = header(res, "x-remaining-today") else { return };
        let limit = header(res, "x-limit-per-day").unwrap_or(0);
        let reserve = (limit * ZERO_RESERVE_PERCENT / 100).max(ZERO_RESERVE_MIN);
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        held.paused_until = (remaining <= 0).then(|| later(now, DAY_EXHAUSTED_PAUSE));
        held.reserved_until = (remaining <= reserve).then(|| later(now, DAY_EXHAUSTED_PAUSE));
    }

    /// Stops every call for `wait` (a 429 for the day).
    pub fn pause_for(&self, now: Timestamp, wait: Duration) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).paused_until = Some(later(now, wait));
    }
}
