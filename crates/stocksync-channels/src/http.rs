//! The HTTP client layer every connector shares: a timeout per request,
//! retries with exponential backoff and jitter on timeouts, dropped
//! connections and 5xx, a per-channel rate limiter seeded from the API's
//! published limits, optional per-operation limiters for APIs that budget
//! each operation apart (Amazon), and obedience to 429 with `Retry-After`.
//!
//! A caller about to decide what to send (the push worker, before it claims
//! a batch) can take the next request's cells first (`HttpClient::ready`):
//! the wait for the limiter then comes before the decision, not between it
//! and the request, so what changed during the wait still goes in.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{RequestBuilder, Response, StatusCode};

use crate::model::{ChannelError, ErrorKind};

/// A channel's published request budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests allowed at once after a quiet period.
    pub burst: u32,
}

/// A token bucket whose next cell may be taken ahead of the request that
/// spends it (`reserve`); every request still spends exactly one cell.
struct Gate {
    limiter: DefaultDirectRateLimiter,
    /// A cell taken by `reserve` and not yet spent. At most one: a second
    /// `reserve` returns at once.
    prepaid: AtomicBool,
}

impl Gate {
    fn new(quota: Quota) -> Self {
        Self { limiter: RateLimiter::direct(quota), prepaid: AtomicBool::new(false) }
    }

    /// Waits for a cell, unless one was taken ahead.
    async fn pass(&self) {
        if !self.prepaid.swap(false, Ordering::AcqRel) {
            self.limiter.until_ready().await;
        }
    }

    /// Takes the next cell now, for the request that comes next. Two racing
    /// callers may both take one; one cell is then wasted, never overspent.
    async fn reserve(&self) {
        if !self.prepaid.load(Ordering::Acquire) {
            self.limiter.until_ready().await;
            self.prepaid.store(true, Ordering::Release);
        }
    }
}

/// One operation's own token bucket, for APIs that publish a budget per
/// operation (Amazon SP-API) rather than per channel. Clones share the bucket.
#[derive(Clone)]
pub struct OpLimit {
    limiter: Arc<Gate>,
    /// What to wait after a 429 that names no `Retry-After`: the time the
    /// bucket takes to earn one request back.
    pub throttle_wait: Duration,
}

impl std::fmt::Debug for OpLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpLimit").field("throttle_wait", &self.throttle_wait).finish_non_exhaustive()
    }
}

impl OpLimit {
    /// A bucket refilling `per_second` (fractions allowed: 0.0167 is one a
    /// minute) holding `burst` requests.
    pub fn new(per_second: f64, burst: u32) -> Self {
        let per_second = if per_second.is_finite() && per_second > 0.0 { per_second } else { 1.0 };
        let period = Duration::from_secs_f64(1.0 / per_second).max(Duration::from_micros(1));
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst);
        Self { limiter: Arc::new(Gate::new(quota)), throttle_wait: period }
    }
}

/// How hard to try one call.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Per attempt: a marketplace that takes longer is treated as down.
    pub timeout: Duration,
    /// A `Retry-After` longer than this is not waited out inside the call:
    /// the error goes back to the worker, which reschedules the work.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            retries: 4,
            min_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// A client for one channel. Cheap to clone; clones share the rate limiter.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    limiter: Arc<Gate>,
    policy: RetryPolicy,
    /// Reads how long a 429 asks to wait (`Retry-After` unless a channel
    /// says it in headers of its own).
    throttle_wait: fn(&Response) -> Option<Duration>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl HttpClient {
    pub fn new(limits: Limits, policy: RetryPolicy) -> Result<Self, ChannelError> {
        crate::install_tls_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ChannelError::permanent(format!("cannot build an HTTP client: {e}")))?;
        let per_second = NonZeroU32::new(limits.per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limits.burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(Gate::new(Quota::per_second(per_second).allow_burst(burst)));
        Ok(Self { client, limiter, policy, throttle_wait: retry_after })
    }

    /// The same client reading a 429's wait with `read` (Walmart's
    /// `X-Next-Replenish-Time`, say).
    pub fn with_throttle_wait(mut self, read: fn(&Response) -> Option<Duration>) -> Self {
        self.throttle_wait = read;
        self
    }

    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// Waits until the next request (through `op`, if given) may go out,
    /// and takes its cells now: that request then leaves without waiting.
    pub async fn ready(&self, op: Option<&OpLimit>) {
        if let Some(op) = op {
            op.limiter.reserve().await;
        }
        self.limiter.reserve().await;
    }

    /// Sends the request `build` makes, retrying what is worth retrying.
    /// Returns the response for any status below 500 other than 429: the
    /// connector reads documented error bodies itself (see `check_status`).
    pub async fn send<F>(&self, build: F) -> Result<Response, ChannelError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        self.send_inner(None, build).await
    }

    /// `send`, also waiting on the operation's own bucket before every
    /// attempt, and reading a 429 without `Retry-After` as "wait for the
    /// bucket to refill one request".
    pub async fn send_op<F>(&self, op: &OpLimit, build: F) -> Result<Response, ChannelError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        self.send_inner(Some(op), build).await
    }

    async fn send_inner<F>(&self, op: Option<&OpLimit>, build: F) -> Result<Response, ChannelError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        let max_after = self.policy.max_retry_after;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.retries)
            .with_jitter();
        (|| self.once(op, &build))
            .retry(backoff)
            .when(ChannelError::is_retryable)
            .adjust(move |e: &ChannelError, planned| match e.kind {
                ErrorKind::Throttled(Some(after)) if after > max_after => None,
                ErrorKind::Throttled(Some(after)) => planned.map(|p| p.max(after)),
                _ => planned,
            })
            .await
    }

    async fn once<F>(&self, op: Option<&OpLimit>, build: &F) -> Result<Response, ChannelError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder,
    {
        if let Some(op) = op {
            op.limiter.pass().await;
        }
        self.limiter.pass().await;
        let res = build(&self.client).timeout(self.policy.timeout).send().await.map_err(|e| {
            if e.is_timeout() {
                ChannelError::transient(format!("timed out: {e}"))
            } else {
                ChannelError::transient(format!("request failed: {e}"))
            }
        })?;
        let status = res.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let after = (self.throttle_wait)(&res).or(op.map(|o| o.throttle_wait));
            return Err(ChannelError::throttled(after, format!("429 from {}", res.url().path())));
        }
        if status.is_server_error() {
            return Err(ChannelError::transient(format!("{status} from {}", res.url().path())));
        }
        Ok(res)
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by marketplaces).
pub fn retry_after(res: &Response) -> Option<Duration> {
    let raw = res.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    raw.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

/// A permanent error for a 4xx, naming the status and the start of the body.
pub async fn check_status(res: Response) -> Result<Response, ChannelError> {
    if res.status().is_success() {
        return Ok(res);
    }
    let status = res.status();
    let body = res.text().await.unwrap_or_default();
    let snippet: String = body.chars().take(300).collect();
    Err(ChannelError::permanent(format!("{status}: {snippet}")))
}

/// Reads a JSON body, calling anything else a bad response.
pub async fn json<T: serde::de::DeserializeOwned>(res: Response) -> Result<T, ChannelError> {
    let bytes = res.bytes().await.map_err(|e| ChannelError::transient(format!("reading the body: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| ChannelError::bad_response(format!("unexpected body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One request an hour, burst one: a wait for the limiter is an hour.
    fn hourly() -> Gate {
        Gate::new(Quota::per_hour(NonZeroU32::MIN))
    }

    #[tokio::test]
    async fn a_cell_taken_ahead_is_spent_by_the_next_request_alone() {
        let gate = hourly();
        gate.reserve().await;
        let soon = Duration::from_secs(5);
        tokio::time::timeout(soon, gate.reserve()).await.expect("a second reserve takes no second cell");
        tokio::time::timeout(soon, gate.pass()).await.expect("the request after reserve leaves at once");
        let again = tokio::time::timeout(Duration::from_millis(50), gate.pass()).await;
        assert!(again.is_err(), "the cell was spent once: the next request waits for the bucket");
    }
}
