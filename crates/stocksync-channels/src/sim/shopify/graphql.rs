//! `POST /admin/api/2025-01/graphql.json`: recognises the operation by its
//! root field, reads its variables, prices it the way Shopify does
//! (a connection costs 2 + `first` × its node, an object 1, a mutation 10;
//! over 1,000 points is refused outright), takes the price from the bucket
//! or answers THROTTLED, and answers `{data, extensions:{cost}}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Bucket, REQUEST_LOG_MAX, ShopifySim};

mod inventory;
mod orders;

/// The most one query may cost, in points [doc: usage/rate-limits].
const SINGLE_QUERY_MAX_COST: f64 = 1000.0;
/// Connection sizes Shopify accepts [doc: usage/limits].
const FIRST_MAX: i64 = 250;
/// What a mutation costs, in points.
const MUTATION_COST: f64 = 10.0;

/// Why a request gets no data: a GraphQL error answered with HTTP 200.
pub(super) struct GqlError {
    message: String,
    code: &'static str,
}

pub(super) fn gql_error(message: impl Into<String>, code: &'static str) -> GqlError {
    GqlError { message: message.into(), code }
}

impl IntoResponse for GqlError {
    fn into_response(self) -> Response {
        Json(json!({ "errors": [{ "message": self.message, "extensions": { "code": self.code } }] })).into_response()
    }
}

/// The name of the first field of the operation's selection set.
fn root_field(query: &str) -> Option<&str> {
    let rest = query[query.find('{')? + 1..].trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// An `Int` variable within 1..=250.
pub(super) fn first_arg(vars: &Value, name: &str) -> Result<i64, GqlError> {
    match vars[name].as_i64() {
        Some(n) if (1..=FIRST_MAX).contains(&n) => Ok(n),
        Some(n) => Err(gql_error(format!("${name} is {n}; connections take 1 to {FIRST_MAX}"), "BAD_REQUEST")),
        None => Err(gql_error(format!("Variable ${name} of type Int! was provided invalid value"), "INVALID_VARIABLE")),
    }
}

/// The price of an operation before it runs, in points.
fn requested_cost(root: &str, vars: &Value) -> Result<f64, GqlError> {
    Ok(match root {
        "orders" => 2.0 + (first_arg(vars, "first")? * (4 + first_arg(vars, "lines")?)) as f64,
        "order" => 4.0 + first_arg(vars, "lines")? as f64,
        "productVariants" => 3.0 + 2.0 * first_arg(vars, "first")? as f64,
        "inventorySetQuantities" => MUTATION_COST,
        other => return Err(gql_error(format!("Field '{other}' doesn't exist on type 'QueryRoot'"), "undefinedField")),
    })
}

impl Bucket {
    fn refill(&mut self) {
        let now = std::time::Instant::now();
        let gained = now.duration_since(self.at).as_secs_f64() * self.restore_per_s;
        self.available = (self.available + gained).min(self.max);
        self.at = now;
    }

    fn cost(&self, requested: f64, actual: Option<f64>) -> Value {
        json!({
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": self.max,
                "currentlyAvailable": self.available.floor(),
                "restoreRate": self.restore_per_s,
            }
        })
    }
}

pub(super) async fn endpoint(State(sim): State<ShopifySim>, headers: HeaderMap, body: Bytes) -> Response {
    let token = headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok());
    if token != Some(sim.token.as_str()) {
        let message = "[API] Invalid API key or access token (unrecognized login or wrong password)";
        return (StatusCode::UNAUTHORIZED, Json(json!({ "errors": message }))).into_response();
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "errors": { "query": "Required parameter missing or invalid" } })),
        )
            .into_response();
    };
    {
        let mut st = sim.lock();
        st.requests.push_back(request.clone());
        if st.requests.len() > REQUEST_LOG_MAX {
            st.requests.pop_front();
        }
    }
    let query = request["query"].as_str().unwrap_or_default();
    let vars = &request["variables"];
    let Some(root) = root_field(query) else {
        return gql_error("syntax error, unexpected end of file", "PARSE_ERROR").into_response();
    };
    let requested = match requested_cost(root, vars) {
        Ok(cost) => cost,
        Err(e) => return e.into_response(),
    };
    if requested > SINGLE_QUERY_MAX_COST {
        let message = format!(
            "Query cost is {requested}, which exceeds the single query max cost limit ({SINGLE_QUERY_MAX_COST})."
        );
        return gql_error(message, "MAX_COST_EXCEEDED").into_response();
    }
    if let Some(throttled) = take_from_bucket(&sim, requested) {
        return throttled;
    }
    let outcome = match root {
        "orders" => orders::orders(&sim, vars),
        "order" => orders::order(&sim, vars),
        "productVariants" => inventory::variants(&sim, vars),
        _ => inventory::set_quantities(&sim, vars),
    };
    let (data, actual) = match outcome {
        Ok(answer) => answer,
        Err(e) => return e.into_response(),
    };
    if root == "inventorySetQuantities" && sim.faults.roll(|f| f.lose_answer) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "simulated: applied, answer lost").into_response();
    }
    let cost = {
        let mut st = sim.lock();
        st.bucket.refill();
        st.bucket.available = (st.bucket.available + requested - actual).min(st.bucket.max);
        st.bucket.cost(requested, Some(actual))
    };
    Json(json!({ "data": data, "extensions": { "cost": cost } })).into_response()
}

/// Takes `requested` points, or answers THROTTLED (HTTP 200) when the bucket
/// holds fewer.
fn take_from_bucket(sim: &ShopifySim, requested: f64) -> Option<Response> {
    let mut st = sim.lock();
    st.bucket.refill();
    if st.bucket.available >= requested {
        st.bucket.available -= requested;
        return None;
    }
    st.stats.throttled += 1;
    let body = json!({
        "errors": [{
            "message": "Throttled",
            "extensions": { "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits" }
        }],
        "extensions": { "cost": st.bucket.cost(requested, None) }
    });
    Some(Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_root_field() {
        assert_eq!(root_field("query Q($a: Int!) {\n  orders(first: $a) { x }"), Some("orders"));
        assert_eq!(
            root_field("mutation M { inventorySetQuantities(input: {}) { a } }"),
            Some("inventorySetQuantities")
        );
        assert_eq!(root_field("{ }"), None);
    }
}
