//! Health, metrics, sync status, and the answers every route shares:
//! malformed bodies, oversized bodies, unknown routes.

use axum::http::StatusCode;
use serde_json::json;

use super::support::{Api, assert_error, keys};
use crate::common::Backend;

/// The harness really runs on the backend asked for: a typo in the switch
/// or a fallback to SQLite would otherwise pass unnoticed.
#[tokio::test]
async fn the_store_runs_on_the_backend_the_tests_chose() {
    let api = Api::new().await;
    assert_eq!(api.store.backend_name(), Backend::chosen().name());
}

#[tokio::test]
async fn healthz_answers_ok_without_a_token() {
    let api = Api::new().await;
    assert_eq!(api.call("GET", "/healthz", None, None).await, (StatusCode::OK, json!({"status": "ok"})));
}

#[tokio::test]
async fn metrics_are_prometheus_text_without_a_token() {
    let api = Api::new().await;
    api.call("GET", "/api/v1/fulfillment-centers", Some(&api.viewer), None).await;
    let r = api.send("GET", "/metrics", None, &[], None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert!(r.text.contains("stocksync_http_requests_total"), "{}", r.text);
    assert!(r.text.contains("route=\"/api/v1/fulfillment-centers\""), "{}", r.text);
}

#[tokio::test]
async fn sync_status_lists_every_channel() {
    let api = Api::new().await;
    let quiet = api
        .ok(
            "POST",
            "/api/v1/channels",
            json!({"name": "quiet", "kind": "etsy", "settings": {"import_orders": false}}),
            StatusCode::CREATED,
        )
        .await;
    let shop = api.channel("shop", json!({})).await;
    let (status, body) = api.call("GET", "/api/v1/sync/status", Some(&api.viewer), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys(&body), ["channels"]);
    let c = &body["channels"][0];
    assert_eq!(
        keys(c),
        [
            "failed_pushes",
            "id",
            "import_orders",
            "kind",
            "last_import_at",
            "last_import_error",
            "name",
            "pending_pushes",
            "push_latency_ms"
        ]
    );
    assert_eq!(
        (&c["id"], &c["name"], &c["kind"], &c["import_orders"]),
        (&quiet["id"], &json!("quiet"), &json!("etsy"), &json!(false))
    );
    assert_eq!(keys(&c["push_latency_ms"]), ["p50", "p99"]);
    assert_eq!((&body["channels"][1]["id"], &body["channels"][1]["import_orders"]), (&json!(shop), &json!(true)));
}

#[tokio::test]
async fn bodies_that_are_not_json_objects_are_malformed() {
    let api = Api::new().await;
    for body in ["{not json", "", "[1, 2]", "\"text\"", "{\"code\": \"E\",}"] {
        let r = api.send("POST", "/api/v1/fulfillment-centers", Some(&api.admin), &[], Some(body.to_owned())).await;
        assert_error(&(r.status, r.json), StatusCode::BAD_REQUEST, "malformed_body");
    }
    let r = api.send("PATCH", "/api/v1/items/X", Some(&api.admin), &[], Some("{\"aliases\": \"A\"}".to_owned())).await;
    assert_error(&(r.status, r.json.clone()), StatusCode::BAD_REQUEST, "malformed_body");
    assert_eq!(r.json["error"]["details"][0]["field"], "aliases");
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413() {
    let api = Api::new().await;
    let big = json!({"code": "E", "name": "x".repeat(1 << 20), "priority": 1}).to_string();
    for (method, path) in [("POST", "/api/v1/fulfillment-centers"), ("PUT", "/api/v1/inventory/X/E")] {
        let r = api.send(method, path, Some(&api.admin), &[], Some(big.clone())).await;
        assert_error(&(r.status, r.json), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    }
    let keyed = api.send("POST", "/api/v1/items", Some(&api.admin), &[("idempotency-key", "big")], Some(big)).await;
    assert_error(&(keyed.status, keyed.json), StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(api.get("/api/v1/fulfillment-centers").await["fulfillment_centers"], json!([]));
}

#[tokio::test]
async fn unknown_routes_answer_the_404_envelope() {
    let api = Api::new().await;
    for path in ["/api/v1/nope", "/nope", "/api/v2/fulfillment-centers", "/api/v1/orders/1/refund"] {
        let answer = api.call("GET", path, Some(&api.admin), None).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "not_found");
    }
    let wrong_method = api.call("DELETE", "/api/v1/fulfillment-centers", Some(&api.admin), None).await;
    assert_eq!(wrong_method.0, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.1["error"]["message"].is_string(), "{}", wrong_method.1);
}
