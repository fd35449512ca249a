//! The in-process harness: a router over a fresh store per test (on the
//! backend `STOCKSYNC_TEST_BACKEND` names, see `common::TestDb`), a
//! token per role, and calls that return the status and the JSON answer.
//! Every answer is also checked against the OpenAPI document (`schema`).

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use stocksync::http::{AppState, router};
use stocksync_core::auth::Role;
use stocksync_store::Store;
use tower::ServiceExt;

use super::schema;
use crate::common::{Sandbox, TestDb};

/// A served API over its own database, with one token per role.
pub struct Api {
    router: Router,
    pub store: Store,
    pub admin: String,
    pub operator: String,
    pub viewer: String,
    /// Dropped after the router and the store, which use it.
    pub db: TestDb,
    _sb: Sandbox,
}

/// One answer: status, headers, raw text, and the JSON (`Null` if none).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Api {
    pub async fn new() -> Self {
        let sb = Sandbox::new();
        let db = TestDb::new(&sb, "db");
        let store = Store::open(&db.url).expect("open store");
        let mut secrets = Vec::new();
        for (name, role) in [("admin", Role::Admin), ("operator", Role::Operator), ("viewer", Role::Viewer)] {
            let secret = format!("test-{name}-token-0123456789abcdef");
            store.create_token(name, role, &secret).await.expect("create token");
            secrets.push(secret);
        }
        let [admin, operator, viewer] = secrets.try_into().expect("three tokens");
        Self { router: router(AppState::new(store.clone())), store, admin, operator, viewer, db, _sb: sb }
    }

    /// `method path` with `token` (none: no Authorization header) and a JSON body.
    /// The future borrows only the `Api`, so closures can build paths.
    pub fn call<'a>(
        &'a self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> impl Future<Output = (StatusCode, Value)> + use<'a> {
        let reply = self.send(method, path, token, &[], body.map(|b| b.to_string()));
        async move {
            let r = reply.await;
            (r.status, r.json)
        }
    }

    /// The full request: extra headers and a raw body.
    pub fn send<'a>(
        &'a self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> impl Future<Output = Reply> + use<'a> {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body.map_or_else(Body::empty, Body::from)).expect("request");
        let (method, path) = (method.to_owned(), path.to_owned());
        async move {
            let res = self.router.clone().oneshot(req).await.expect("infallible router");
            let (parts, body) = res.into_parts();
            let bytes = body.collect().await.expect("response body").to_bytes();
            let text = String::from_utf8(bytes.to_vec()).expect("UTF-8 answer");
            let json = serde_json::from_str(&text).unwrap_or(Value::Null);
            schema::check_answer(&method, &path, parts.status, &text, &json);
            Reply { status: parts.status, headers: parts.headers, text, json }
        }
    }

    /// A GET as admin that must succeed.
    pub fn get<'a>(&'a self, path: &str) -> impl Future<Output = Value> + use<'a> {
        let call = self.call("GET", path, Some(&self.admin), None);
        let path = path.to_owned();
        async move {
            let (status, body) = call.await;
            assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
            body
        }
    }

    /// A call as admin that must answer `expected`.
    pub fn ok<'a>(
        &'a self,
        method: &str,
        path: &str,
        body: Value,
        expected: StatusCode,
    ) -> impl Future<Output = Value> + use<'a> {
        let call = self.call(method, path, Some(&self.admin), Some(body));
        let what = format!("{method} {path}");
        async move {
            let (status, answer) = call.await;
            assert_eq!(status, expected, "{what}: {answer}");
            answer
        }
    }

    pub async fn fc(&self, code: &str, priority: i64) {
        let body = json!({"code": code, "name": format!("{code} warehouse"), "priority": priority});
        self.ok("POST", "/api/v1/fulfillment-centers", body, StatusCode::CREATED).await;
    }

    pub async fn item(&self, sku: &str) {
        self.ok("POST", "/api/v1/items", json!({"sku": sku, "kind": "stock"}), StatusCode::CREATED).await;
    }

    pub async fn bundle(&self, sku: &str, components: &[(&str, i64)]) {
        let components: Vec<Value> = components.iter().map(|(s, q)| json!({"sku": s, "quantity": q})).collect();
        let body = json!({"sku": sku, "kind": "bundle", "components": components});
        self.ok("POST", "/api/v1/items", body, StatusCode::CREATED).await;
    }

    /// Sets `on_hand` of `sku` at `fc`.
    pub async fn stock(&self, sku: &str, fc: &str, on_hand: i64) -> Value {
        self.ok("PUT", &format!("/api/v1/inventory/{sku}/{fc}"), json!({"on_hand": on_hand}), StatusCode::OK).await
    }

    /// An `api` channel with these settings; returns its id.
    pub async fn channel(&self, name: &str, settings: Value) -> i64 {
        let body = json!({"name": name, "kind": "api", "base_url": "http://127.0.0.1:9/push", "settings": settings});
        let ch = self.ok("POST", "/api/v1/channels", body, StatusCode::CREATED).await;
        ch["id"].as_i64().expect("channel id")
    }

    /// Submits an order of `(line_id, channel_sku, quantity)` lines as operator.
    pub async fn order(&self, channel: i64, external_id: &str, lines: &[(&str, &str, i64)]) -> (StatusCode, Value) {
        self.order_body(channel, json!({"external_id": external_id, "lines": order_lines(lines)})).await
    }

    pub fn order_body(&self, channel: i64, body: Value) -> impl Future<Output = (StatusCode, Value)> + use<'_> {
        self.call("POST", &format!("/api/v1/channels/{channel}/orders"), Some(&self.operator), Some(body))
    }

    /// Panics unless `stocksync check` would pass on the database.
    pub async fn assert_consistent(&self) {
        let violations = self.store.check().await.expect("check");
        assert!(violations.is_empty(), "invariants violated: {violations:#?}");
    }

    /// `(on_hand, committed, available)` of one level.
    pub async fn level(&self, sku: &str, fc: &str) -> (i64, i64, i64) {
        let inv = self.get(&format!("/api/v1/inventory/{sku}")).await;
        let level = inv["levels"].as_array().expect("levels").iter().find(|l| l["fc"] == fc);
        let n = |k: &str| level.map_or(0, |l| l[k].as_i64().expect("count"));
        (n("on_hand"), n("committed"), n("available"))
    }
}

pub fn order_lines(lines: &[(&str, &str, i64)]) -> Vec<Value> {
    lines.iter().map(|(id, sku, q)| json!({"line_id": id, "channel_sku": sku, "quantity": q})).collect()
}

/// Asserts the error envelope with this status and code.
#[track_caller]
pub fn assert_error(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["error"]["details"].is_array(), "{body}");
}

/// The `details[].field` of an error answer.
pub fn fields(body: &Value) -> Vec<String> {
    body["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str().map(str::to_owned))
        .collect()
}

/// Asserts a 422 `validation_failed` naming `field` among its details.
#[track_caller]
pub fn assert_invalid(answer: &(StatusCode, Value), field: &str) {
    assert_error(answer, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(fields(&answer.1).iter().any(|f| f == field), "no detail for {field}: {}", answer.1);
}

/// The keys of a JSON object, sorted.
pub fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

/// Asserts that `v` has at least the fields `expected` (API.md allows more).
#[track_caller]
pub fn assert_has(v: &Value, expected: &[&str]) {
    let k = keys(v);
    for f in expected {
        assert!(k.contains(f), "missing {f} in {v}");
    }
}
