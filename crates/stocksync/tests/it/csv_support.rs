//! In-process HTTP: the router over a fresh store (`common::TestDb`), called with
//! `oneshot`, with a small catalog seeded through the store.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use stocksync::http::{AppState, router};
use stocksync_core::auth::Role;
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_store::{NewChannel, Store};
use tower::ServiceExt;

use crate::common::{Sandbox, TestDb};

pub const ADMIN: &str = "admin-token-for-tests-0123456789";
pub const VIEWER: &str = "viewer-token-for-tests-0123456789";

/// A server over its own database: FCs EAST (priority 1) and WEST; stock
/// items A-1 and B-2 (alias B2) and C-3; bundle KIT = A-1×2 + B-2×1; a
/// channel `shop` (kind api).
pub struct Api {
    pub store: Store,
    pub router: Router,
    pub shop: i64,
    /// Declared after the store and the router so that they close first.
    db: TestDb,
    _sb: Sandbox,
}

impl Api {
    pub async fn new() -> Self {
        let sb = Sandbox::new();
        let db = TestDb::new(&sb, "api.db");
        let store = Store::open(&db.url).expect("open store");
        store.create_token("admin", Role::Admin, ADMIN).await.expect("admin token");
        store.create_token("viewer", Role::Viewer, VIEWER).await.expect("viewer token");
        for (code, priority) in [("EAST", 1), ("WEST", 2)] {
            store.create_fc(FcSpec::new(code, code, priority, true).expect("FC")).await.expect("create FC");
        }
        let stock = |sku: &str, aliases: &[&str]| ItemDraft {
            sku: sku.into(),
            kind: "stock".into(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            ..Default::default()
        };
        let kit = ItemDraft {
            sku: "KIT".into(),
            kind: "bundle".into(),
            components: vec![("A-1".into(), 2), ("B-2".into(), 1)],
            ..Default::default()
        };
        store
            .create_items(vec![stock("A-1", &[]), stock("B-2", &["B2"]), stock("C-3", &[]), kit], "test")
            .await
            .expect("items");
        let shop = store
            .create_channel(NewChannel {
                name: "shop".into(),
                kind: ChannelKind::Api,
                base_url: None,
                credentials_json: "{}".into(),
                settings: ChannelSettings::defaults(ChannelKind::Api),
            })
            .await
            .expect("channel");
        let router = router(AppState::new(store.clone()));
        Self { store, router, shop: shop.0, db, _sb: sb }
    }

    /// Sets a level directly, as a baseline for a test.
    pub async fn set(&self, sku: &str, fc: &str, on_hand: i64) {
        self.store.set_stock(sku, fc, StockTarget::OnHand(on_hand), Some("seed"), "test").await.expect("set stock");
    }

    /// Rows in the push outbox: how many transactions marked items for a push.
    pub fn push_marks(&self) -> i64 {
        self.db.count("SELECT COUNT(*) FROM push_queue")
    }

    /// `on_hand` of a level (0 when there is none).
    pub async fn on_hand(&self, sku: &str, fc: &str) -> i64 {
        let levels = self.store.levels_of(vec![(sku.into(), fc.into())]).await.expect("levels");
        levels[0].on_hand
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let res = self.router.clone().oneshot(req).await.expect("router answers");
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes().to_vec();
        (parts.status, parts.headers, bytes)
    }

    /// POSTs a CSV body with the admin token; returns the status and JSON.
    pub async fn upload(&self, path: &str, body: impl Into<Body>) -> (StatusCode, Value) {
        self.upload_as(ADMIN, path, body, None).await
    }

    pub async fn upload_as(
        &self,
        token: &str,
        path: &str,
        body: impl Into<Body>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = Request::post(format!("/api/v1{path}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "text/csv");
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        let (status, _, bytes) = self.send(req.body(body.into()).expect("request")).await;
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        (status, json)
    }

    /// GETs with a token; returns the status, headers and body text.
    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, HeaderMap, String) {
        let req = Request::get(format!("/api/v1{path}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let (status, headers, bytes) = self.send(req).await;
        (status, headers, String::from_utf8(bytes).expect("UTF-8 body"))
    }
}

/// The `(line, column)` of each error detail, in order.
pub fn lines_and_columns(body: &Value) -> Vec<(u64, String)> {
    assert_eq!(body["error"]["code"], "validation_failed", "{body:#}");
    body["error"]["details"]
        .as_array()
        .unwrap_or_else(|| panic!("details: {body:#}"))
        .iter()
        .map(|d| (d["line"].as_u64().expect("line"), d["column"].as_str().expect("column").to_owned()))
        .collect()
}

/// The message of the detail at `(line, column)`.
pub fn message_at(body: &Value, line: u64, column: &str) -> String {
    body["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["line"] == line && d["column"] == column)
        .and_then(|d| d["message"].as_str())
        .unwrap_or_else(|| panic!("no detail at line {line}, column {column}: {body:#}"))
        .to_owned()
}
