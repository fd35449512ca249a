//! One GraphQL call: the access token header, query-cost throttling read
//! from `extensions.cost` and `errors[].extensions.code == "THROTTLED"`
//! (HTTP 200), waited out inside the call while the wait is short.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::ShopifyConnector;
use crate::http::{check_status, json};
use crate::model::{ChannelError, ErrorKind};

/// Shortest wait after a THROTTLED answer: the bucket refills continuously,
/// but asking again sooner only spends a request.
const THROTTLE_WAIT_MIN: Duration = Duration::from_millis(50);

/// What one mutation costs, in points [doc: usage/rate-limits].
pub(super) const MUTATION_COST: f64 = 10.0;
/// Longest `Bucket::wait_for` asks for: a stale reading must not stall pushes.
const BUCKET_WAIT_MAX: Duration = Duration::from_secs(10);

/// The cost bucket as the last answer left it (`throttleStatus`). Clones share it.
#[derive(Debug, Clone, Default)]
pub(super) struct Bucket(Arc<Mutex<Option<Level>>>);

#[derive(Debug, Clone, Copy)]
struct Level {
    available: f64,
    restore_rate: f64,
    at: Instant,
}

impl Bucket {
    fn observe(&self, status: &ThrottleStatus) {
        let level =
            Level { available: status.currently_available, restore_rate: status.restore_rate, at: Instant::now() };
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(level);
    }

    /// How long until the bucket holds `cost` points again, by the last
    /// answer and the restore rate since; zero when nothing is known.
    pub(super) fn wait_for(&self, cost: f64) -> Duration {
        let Some(l) = *self.0.lock().unwrap_or_else(PoisonError::into_inner) else { return Duration::ZERO };
        if !(l.restore_rate > 0.0 && l.available.is_finite()) {
            return Duration::ZERO;
        }
        let now = l.available + l.restore_rate * l.at.elapsed().as_secs_f64();
        if now >= cost {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((cost - now) / l.restore_rate).min(BUCKET_WAIT_MAX)
    }
}

#[derive(Debug, Deserialize)]
struct Envelope<T> {
    data: Option<T>,
    errors: Option<Value>,
    extensions: Option<Extensions>,
}

#[derive(Debug, Deserialize)]
struct Extensions {
    cost: Option<Cost>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cost {
    requested_query_cost: Option<f64>,
    throttle_status: Option<ThrottleStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThrottleStatus {
    currently_available: f64,
    restore_rate: f64,
}

impl ShopifyConnector {
    /// Runs `query` with `variables`; THROTTLED answers are retried after the
    /// computed refill time while it is within the retry policy.
    pub(super) async fn graphql<T: DeserializeOwned>(&self, query: &str, variables: Value) -> Result<T, ChannelError> {
        let token = self.cfg.require("access_token")?;
        let body = serde_json::to_vec(&json!({ "query": query, "variables": variables }))
            .map_err(|e| ChannelError::permanent(format!("encoding: {e}")))?;
        let url = self.endpoint();
        let mut attempts = 0;
        loop {
            let res = self
                .http
                .send(|c| {
                    c.post(&url)
                        .header("x-shopify-access-token", token)
                        .header("content-type", "application/json")
                        .body(body.clone())
                })
                .await?;
            if matches!(res.status().as_u16(), 401 | 403) {
                let status = res.status();
                let detail: String = res.text().await.unwrap_or_default().chars().take(200).collect();
                return Err(ChannelError::permanent(format!("Shopify refused the access token ({status}): {detail}")));
            }
            let envelope: Envelope<T> = json(check_status(res).await?).await?;
            if let Some(status) =
                envelope.extensions.as_ref().and_then(|x| x.cost.as_ref()).and_then(|c| c.throttle_status.as_ref())
            {
                self.bucket.observe(status);
            }
            match interpret(envelope) {
                Err(e) if self.worth_waiting(&e, attempts) => {
                    attempts += 1;
                    if let ErrorKind::Throttled(Some(wait)) = e.kind {
                        tokio::time::sleep(wait).await;
                    }
                }
                other => return other,
            }
        }
    }

    fn worth_waiting(&self, e: &ChannelError, attempts: usize) -> bool {
        matches!(e.kind, ErrorKind::Throttled(Some(wait)) if wait <= self.policy.max_retry_after)
            && attempts < self.policy.retries
    }
}

fn interpret<T>(envelope: Envelope<T>) -> Result<T, ChannelError> {
    let errors: Vec<&Value> = match &envelope.errors {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    };
    if !errors.is_empty() {
        let messages: Vec<String> =
            errors.iter().map(|e| e["message"].as_str().map_or_else(|| e.to_string(), str::to_owned)).collect();
        let message = format!("Shopify GraphQL: {}", messages.join("; "));
        let throttled = errors.iter().any(|e| e["extensions"]["code"] == "THROTTLED");
        if throttled {
            let wait = envelope.extensions.and_then(|x| x.cost).and_then(|c| refill_wait(&c));
            return Err(ChannelError::throttled(wait, message));
        }
        // Anything else is a query the schema refuses or a missing scope:
        // asking again will not help.
        return Err(ChannelError::permanent(message));
    }
    envelope.data.ok_or_else(|| ChannelError::bad_response("Shopify GraphQL: an answer with neither data nor errors"))
}

/// How long until the bucket holds the query's cost again.
fn refill_wait(cost: &Cost) -> Option<Duration> {
    let status = cost.throttle_status.as_ref()?;
    let needed = cost.requested_query_cost? - status.currently_available;
    if !(status.restore_rate > 0.0 && needed.is_finite()) {
        return None;
    }
    let seconds = (needed.max(0.0) / status.restore_rate).min(3600.0);
    Some(Duration::from_secs_f64(seconds).max(THROTTLE_WAIT_MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_answers_carry_the_refill_time() {
        let envelope: Envelope<Value> = serde_json::from_value(json!({
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": {"requestedQueryCost": 500, "actualQueryCost": null,
                "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 300, "restoreRate": 50.0}}}
        }))
        .unwrap();
        let e = interpret(envelope).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Throttled(Some(Duration::from_secs(4))));
    }

    #[test]
    fn the_bucket_says_how_long_until_a_mutation_fits() {
        let bucket = Bucket::default();
        assert_eq!(bucket.wait_for(MUTATION_COST), Duration::ZERO, "nothing known: no wait");
        bucket.observe(&ThrottleStatus { currently_available: 0.0, restore_rate: 2.0 });
        let wait = bucket.wait_for(MUTATION_COST);
        assert!(wait > Duration::from_secs(4) && wait <= Duration::from_secs(5), "10 points at 2/s: {wait:?}");
        bucket.observe(&ThrottleStatus { currently_available: 600.0, restore_rate: 50.0 });
        assert_eq!(bucket.wait_for(MUTATION_COST), Duration::ZERO);
        bucket.observe(&ThrottleStatus { currently_available: 0.0, restore_rate: 0.01 });
        assert_eq!(bucket.wait_for(MUTATION_COST), BUCKET_WAIT_MAX, "a stale or odd reading never stalls pushes long");
    }

    #[test]
    fn other_errors_are_permanent() {
        let envelope: Envelope<Value> =
            serde_json::from_value(json!({"errors": [{"message": "Field 'x' doesn't exist on type 'Order'"}]}))
                .unwrap();
        assert_eq!(interpret(envelope).unwrap_err().kind, ErrorKind::Permanent);
    }
}
