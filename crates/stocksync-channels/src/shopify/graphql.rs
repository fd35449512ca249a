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
/// Longest wait the bucket asks of a mutation: a stale reading must not stall pushes.
const BUCKET_WAIT_MAX: Duration = Duration::from_secs(10);
/// While a read waits for the bucket to hold its price, mutations go at
/// most once per this, leaving the rest of the refill to the read: pushes
/// spend 10 points a call, so unpaced they take every point as it comes
/// back and a read (up to 882 points) never fits. Two a second take 20 of
/// the standard plan's 50 points a second and still carry 500 quantities,
/// adding at most half a second to a push.
const MUTATION_PACE_WHILE_READING: Duration = Duration::from_millis(500);

/// The cost bucket as the last answer left it (`throttleStatus`), and the
/// points reads are waiting for. Clones share it.
#[derive(Debug, Clone, Default)]
pub(super) struct Bucket(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    level: Option<Level>,
    /// The price of every read waiting for the bucket to refill.
    reads_waiting: f64,
    /// When the last mutation was sent.
    last_mutation: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Level {
    available: f64,
    restore_rate: f64,
    at: Instant,
}

impl Bucket {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn observe(&self, status: &ThrottleStatus) {
        let level =
            Level { available: status.currently_available, restore_rate: status.restore_rate, at: Instant::now() };
        self.state().level = Some(level);
    }

    /// How long the next mutation should wait: until the bucket holds it,
    /// and while a read is waiting for its price, until
    /// `MUTATION_PACE_WHILE_READING` after the last one sent.
    pub(super) fn mutation_wait(&self) -> Duration {
        let st = self.state();
        let wait = st.wait_for(MUTATION_COST);
        match st.last_mutation {
            Some(last) if st.reads_waiting > 0.0 && st.wait_for(st.reads_waiting + MUTATION_COST) > Duration::ZERO => {
                wait.max((last + MUTATION_PACE_WHILE_READING).saturating_duration_since(Instant::now()))
            }
            _ => wait,
        }
    }

    fn mutation_sent(&self) {
        self.state().last_mutation = Some(Instant::now());
    }

    /// How long a read told to wait `wait` should: longer by the share of
    /// the refill that paced mutations take meanwhile.
    fn read_wait(&self, wait: Duration) -> Duration {
        let Some(l) = self.state().level.filter(|l| l.restore_rate > 0.0) else { return wait };
        let paced = MUTATION_COST / MUTATION_PACE_WHILE_READING.as_secs_f64();
        wait.mul_f64(l.restore_rate / (l.restore_rate - paced).max(l.restore_rate / 10.0))
    }

    /// Holds `points` for a read waiting for the bucket until the returned
    /// guard is dropped.
    fn reserve(&self, points: f64) -> Reserved {
        self.state().reads_waiting += points;
        Reserved { bucket: self.clone(), points }
    }
}

/// A read's claim on the bucket's refill (`Bucket::reserve`).
struct Reserved {
    bucket: Bucket,
    points: f64,
}

impl Drop for Reserved {
    fn drop(&mut self) {
        let mut st = self.bucket.state();
        st.reads_waiting = (st.reads_waiting - self.points).max(0.0);
    }
}

impl State {
    /// How long until the bucket holds `cost` points again, by the last
    /// answer and the restore rate since; zero when nothing is known.
    fn wait_for(&self, cost: f64) -> Duration {
        let Some(l) = self.level else { return Duration::ZERO };
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
        let read = !query.trim_start().starts_with("mutation");
        let mut reserved: Option<Reserved> = None;
        let mut attempts = 0;
        loop {
            if !read {
                self.bucket.mutation_sent();
            }
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
            let cost = envelope.extensions.as_ref().and_then(|x| x.cost.as_ref());
            if let Some(status) = cost.and_then(|c| c.throttle_status.as_ref()) {
                self.bucket.observe(status);
            }
            let price = cost.and_then(|c| c.requested_query_cost);
            match interpret(envelope) {
                Err(e) if self.worth_waiting(&e, attempts) => {
                    attempts += 1;
                    // Pushes slow down until this read fits (see `Bucket::mutation_wait`).
                    if let (true, None, Some(points)) = (read, &reserved, price) {
                        reserved = Some(self.bucket.reserve(points));
                    }
                    if let ErrorKind::Throttled(Some(wait)) = e.kind {
                        let wait = if reserved.is_some() { self.bucket.read_wait(wait) } else { wait };
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
        assert_eq!(bucket.mutation_wait(), Duration::ZERO, "nothing known: no wait");
        bucket.observe(&ThrottleStatus { currently_available: 0.0, restore_rate: 2.0 });
        let wait = bucket.mutation_wait();
        assert!(wait > Duration::from_secs(4) && wait <= Duration::from_secs(5), "10 points at 2/s: {wait:?}");
        bucket.observe(&ThrottleStatus { currently_available: 600.0, restore_rate: 50.0 });
        assert_eq!(bucket.mutation_wait(), Duration::ZERO);
        bucket.observe(&ThrottleStatus { currently_available: 0.0, restore_rate: 0.01 });
        assert_eq!(bucket.mutation_wait(), BUCKET_WAIT_MAX, "a stale or odd reading never stalls pushes long");
    }

    #[test]
    fn mutations_slow_to_two_a_second_while_a_read_waits_for_its_price() {
        let bucket = Bucket::default();
        bucket.observe(&ThrottleStatus { currently_available: 0.0, restore_rate: 50.0 });
        let read = bucket.reserve(500.0);
        let first = bucket.mutation_wait();
        assert!(first <= Duration::from_millis(200), "10 points at 50/s: {first:?}");
        assert!(bucket.mutation_wait() <= Duration::from_millis(200), "asking again sends nothing: no pacing yet");
        let before = Instant::now();
        bucket.mutation_sent();
        let second = bucket.mutation_wait();
        // Compared as instants, so a stall between the calls cannot fail it.
        assert!(
            Instant::now() + second >= before + MUTATION_PACE_WHILE_READING,
            "the next half a second after the one sent: {second:?}"
        );
        let stretched = bucket.read_wait(Duration::from_secs(3));
        assert!(stretched > Duration::from_secs(4), "the read's 3 s at 30 of 50 points a second: {stretched:?}");
        drop(read);
        assert!(bucket.mutation_wait() <= Duration::from_millis(200), "no read waiting: only the bucket counts");
        bucket.observe(&ThrottleStatus { currently_available: 900.0, restore_rate: 50.0 });
        let _read = bucket.reserve(500.0);
        assert_eq!(bucket.mutation_wait(), Duration::ZERO, "the read fits already: no pacing");
    }

    #[test]
    fn other_errors_are_permanent() {
        let envelope: Envelope<Value> =
            serde_json::from_value(json!({"errors": [{"message": "Field 'x' doesn't exist on type 'Order'"}]}))
                .unwrap();
        assert_eq!(interpret(envelope).unwrap_err().kind, ErrorKind::Permanent);
    }
}
