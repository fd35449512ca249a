//! The fault menu every simulator offers: 429 with `Retry-After`, 500, slow
//! answers, a change applied but its answer lost, duplicated and
//! out-of-order pages, lost and late webhooks. Probabilities draw from a
//! seeded generator, so a failing run can be replayed.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// What goes wrong, and how often (probabilities 0–1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    pub seed: u64,
    /// Answer 429 with `Retry-After: retry_after_s`.
    pub throttle: f64,
    pub retry_after_s: u64,
    /// Answer 500 without doing anything.
    pub error: f64,
    /// Delay answers by `slow_ms`.
    pub slow: f64,
    pub slow_ms: u64,
    /// Apply a change, then answer 500 as if the connection dropped.
    pub lose_answer: f64,
    /// Serve a page twice (order lists).
    pub duplicate_pages: f64,
    /// Serve pages' orders shuffled.
    pub shuffle_pages: f64,
    /// Do not send a webhook at all.
    pub lose_webhook: f64,
    /// Send a webhook `late_webhook_ms` late.
    pub late_webhook: f64,
    pub late_webhook_ms: u64,
}

/// The faults in force and the seeded generator that draws them.
#[derive(Debug, Clone)]
pub struct FaultInjector(Arc<Mutex<(Faults, fastrand::Rng)>>);

impl Default for FaultInjector {
    fn default() -> Self {
        Self::new(Faults::default())
    }
}

impl FaultInjector {
    pub fn new(faults: Faults) -> Self {
        let rng = fastrand::Rng::with_seed(faults.seed);
        Self(Arc::new(Mutex::new((faults, rng))))
    }

    pub fn set(&self, faults: Faults) {
        let mut g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *g = (faults.clone(), fastrand::Rng::with_seed(faults.seed));
    }

    pub fn get(&self) -> Faults {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).0.clone()
    }

    /// Draws whether a fault with probability `pick(faults)` happens now.
    pub fn roll(&self, pick: impl Fn(&Faults) -> f64) -> bool {
        let mut g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let p = pick(&g.0);
        p > 0.0 && g.1.f64() < p
    }

    pub fn shuffle<T>(&self, items: &mut [T]) {
        let mut g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        g.1.shuffle(items);
    }
}

/// A request-level fault drawn before a handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drawn {
    /// Answer 429 with `Retry-After` in seconds.
    Throttle { retry_after_s: u64 },
    /// Answer 500 without doing anything.
    Error,
}

/// Draws the request-level faults for one request, sleeping first when
/// `slow` comes up. Simulators render the answer in their channel's shape.
pub async fn draw(f: &FaultInjector) -> Option<Drawn> {
    let faults = f.get();
    if f.roll(|x| x.throttle) {
        return Some(Drawn::Throttle { retry_after_s: faults.retry_after_s });
    }
    if f.roll(|x| x.error) {
        return Some(Drawn::Error);
    }
    if f.roll(|x| x.slow) {
        tokio::time::sleep(Duration::from_millis(faults.slow_ms)).await;
    }
    None
}

/// Whether a path is a simulator control route, which faults never touch.
pub fn is_control(req: &Request) -> bool {
    req.uri().path().starts_with("/_sim/")
}

/// Middleware: throttles, fails or slows a request before the handler runs,
/// with plain-text bodies. Control paths (`/_sim/…`) are never faulted.
pub async fn inject(State(f): State<FaultInjector>, req: Request, next: Next) -> Response {
    if is_control(&req) {
        return next.run(req).await;
    }
    match draw(&f).await {
        Some(Drawn::Throttle { retry_after_s }) => {
            let after = retry_after_s.to_string();
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", after)], "throttled by the simulator").into_response()
        }
        Some(Drawn::Error) => (StatusCode::INTERNAL_SERVER_ERROR, "simulated failure").into_response(),
        None => next.run(req).await,
    }
}

/// `GET /_sim/faults` and `POST /_sim/faults` bodies.
pub async fn get_faults(State(f): State<FaultInjector>) -> Json<Faults> {
    Json(f.get())
}

pub async fn set_faults(State(f): State<FaultInjector>, Json(faults): Json<Faults>) -> StatusCode {
    f.set(faults);
    StatusCode::NO_CONTENT
}
