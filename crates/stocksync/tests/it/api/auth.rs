//! Every endpoint: 401 without a valid token, 403 below its role.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::support::{Api, assert_error};

/// `(method, path, body, least role)` for every authenticated endpoint.
/// Role checks come before lookups, so the paths need not exist.
pub fn endpoints() -> Vec<(&'static str, &'static str, Option<Value>, &'static str)> {
    let order = json!({"external_id": "A", "lines": [{"line_id": "1", "channel_sku": "X", "quantity": 1}]});
    vec![
        ("GET", "/api/v1/fulfillment-centers", None, "viewer"),
        ("POST", "/api/v1/fulfillment-centers", Some(json!({"code": "E", "name": "E", "priority": 1})), "admin"),
        ("PATCH", "/api/v1/fulfillment-centers/E", Some(json!({"priority": 2})), "admin"),
        ("GET", "/api/v1/items", None, "viewer"),
        ("POST", "/api/v1/items", Some(json!({"sku": "X", "kind": "stock"})), "admin"),
        ("GET", "/api/v1/items/X", None, "viewer"),
        ("PATCH", "/api/v1/items/X", Some(json!({"title": "t"})), "admin"),
        ("GET", "/api/v1/inventory", None, "viewer"),
        ("GET", "/api/v1/inventory/X", None, "viewer"),
        ("PUT", "/api/v1/inventory/X/E", Some(json!({"on_hand": 1})), "operator"),
        ("POST", "/api/v1/inventory/X/E/adjustments", Some(json!({"delta": 1})), "operator"),
        ("GET", "/api/v1/channels", None, "viewer"),
        ("POST", "/api/v1/channels", Some(json!({"name": "c", "kind": "api"})), "admin"),
        ("GET", "/api/v1/channels/1", None, "viewer"),
        ("PATCH", "/api/v1/channels/1", Some(json!({"name": "d"})), "admin"),
        ("GET", "/api/v1/channels/1/listings", None, "viewer"),
        ("POST", "/api/v1/channels/1/listings", Some(json!({"channel_sku": "X"})), "admin"),
        ("POST", "/api/v1/channels/1/orders", Some(order), "operator"),
        ("GET", "/api/v1/orders", None, "viewer"),
        ("GET", "/api/v1/orders/1", None, "viewer"),
        ("POST", "/api/v1/orders/1/cancel", None, "operator"),
        ("POST", "/api/v1/orders/1/ship", None, "operator"),
        ("GET", "/api/v1/tokens", None, "viewer"),
        ("POST", "/api/v1/tokens", Some(json!({"name": "t", "role": "viewer"})), "admin"),
        ("DELETE", "/api/v1/tokens/nobody", None, "admin"),
        ("GET", "/api/v1/movements", None, "viewer"),
        ("GET", "/api/v1/sync/status", None, "viewer"),
    ]
}

#[tokio::test]
async fn every_endpoint_needs_a_valid_token() {
    let api = Api::new().await;
    api.store.create_token("gone", stocksync_core::auth::Role::Admin, "gone-token-0123456789abcdef").await.unwrap();
    api.store.delete_token("gone").await.unwrap();
    for (method, path, body, _) in endpoints() {
        for token in [None, Some("not-a-token-0123456789"), Some("gone-token-0123456789abcdef")] {
            let answer = api.call(method, path, token, body.clone()).await;
            assert_eq!(answer.0, StatusCode::UNAUTHORIZED, "{method} {path} with {token:?}: {}", answer.1);
            assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthorized");
        }
    }
}

#[tokio::test]
async fn every_endpoint_refuses_roles_below_its_own() {
    let api = Api::new().await;
    for (method, path, body, least) in endpoints() {
        let weaker: &[&String] = match least {
            "admin" => &[&api.operator, &api.viewer],
            "operator" => &[&api.viewer],
            _ => &[],
        };
        for token in weaker {
            let answer = api.call(method, path, Some(token), body.clone()).await;
            assert_eq!(answer.0, StatusCode::FORBIDDEN, "{method} {path} as {token}: {}", answer.1);
            assert_error(&answer, StatusCode::FORBIDDEN, "forbidden");
        }
        // The least role gets past the role check (to a success or a 404).
        let least_token = match least {
            "admin" => &api.admin,
            "operator" => &api.operator,
            _ => &api.viewer,
        };
        let answer = api.call(method, path, Some(least_token), body.clone()).await;
        assert!(
            ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&answer.0),
            "{method} {path}: {}",
            answer.1
        );
    }
}
