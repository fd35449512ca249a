//! Etsy's daily request budget (10,000 a day per app by default, over a
//! sliding 24 hours [doc: rate-limits]). Every answer says what is left
//! (`x-remaining-today` of `x-limit-per-day`). At zero the connector stops
//! calling and answers `Throttled` without spending a request: Etsy does
//! not say when its sliding window frees the next one, so it waits
//! `DAY_EXHAUSTED_PAUSE` and tries again, or as long as a 429's
//! `retry-after` asks.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::Response;
use stocksync_core::Timestamp;

use crate::model::ChannelError;

/// How long the connector stops after `x-remaining-today` reaches 0: an
/// hour between tries spends at most 24 requests a day on finding out.
pub const DAY_EXHAUSTED_PAUSE: Duration = Duration::from_secs(3600);

/// When calls may start again, if the day's budget is spent. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct DayBudget(Arc<Mutex<Option<Timestamp>>>);

impl DayBudget {
    /// Refuses a call while the budget is spent.
    pub fn check(&self, now: Timestamp) -> Result<(), ChannelError> {
        let held = *self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match held {
            Some(until) if until > now => {
                let left = Duration::from_millis((until.millis() - now.millis()).unsigned_abs());
                Err(ChannelError::throttled(
                    Some(left),
                    format!("Etsy: the day's request budget is spent; next try in {} s", left.as_secs()),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Reads `x-remaining-today` from an answer.
    pub fn observe(&self, res: &Response, now: Timestamp) {
        let remaining = res
            .headers()
            .get("x-remaining-today")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok());
        match remaining {
            Some(left) if left <= 0 => self.pause_for(now, DAY_EXHAUSTED_PAUSE),
            Some(_) => *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None,
            None => {}
        }
    }

    pub fn pause_for(&self, now: Timestamp, wait: Duration) {
        let until = now.millis().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(Timestamp(until));
    }
}
