//! `/tokens`, and authentication: 401 without a valid token.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::support::{Api, assert_error, assert_invalid, keys};

#[tokio::test]
async fn a_created_token_works_at_once_and_stops_when_deleted() {
    let api = Api::new().await;
    let created =
        api.ok("POST", "/api/v1/tokens", json!({"name": "ci", "role": "operator"}), StatusCode::CREATED).await;
    assert_eq!(keys(&created), ["name", "role", "token"]);
    assert_eq!((&created["name"], &created["role"]), (&json!("ci"), &json!("operator")));
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 32, "{secret}");

    api.fc("EAST", 1).await;
    api.item("MUG-1").await;
    let put = || api.call("PUT", "/api/v1/inventory/MUG-1/EAST", Some(&secret), Some(json!({"on_hand": 3})));
    assert_eq!(put().await.0, StatusCode::OK);
    let fc = api.call(
        "POST",
        "/api/v1/fulfillment-centers",
        Some(&secret),
        Some(json!({"code": "W", "name": "W", "priority": 2})),
    );
    assert_error(&fc.await, StatusCode::FORBIDDEN, "forbidden");

    let gone = api.send("DELETE", "/api/v1/tokens/ci", Some(&api.admin), &[], None).await;
    assert_eq!((gone.status, gone.text.as_str()), (StatusCode::NO_CONTENT, ""));
    assert_error(&put().await, StatusCode::UNAUTHORIZED, "unauthorized");
    let again = api.call("DELETE", "/api/v1/tokens/ci", Some(&api.admin), None).await;
    assert_error(&again, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn the_token_list_never_shows_secrets() {
    let api = Api::new().await;
    let created = api.ok("POST", "/api/v1/tokens", json!({"name": "ci", "role": "viewer"}), StatusCode::CREATED).await;
    let secret = created["token"].as_str().unwrap();
    let list = api.send("GET", "/api/v1/tokens", Some(&api.viewer), &[], None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(keys(&list.json), ["tokens"]);
    let names: Vec<&str> =
        list.json["tokens"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "ci", "operator", "viewer"]);
    for t in list.json["tokens"].as_array().unwrap() {
        assert_eq!(keys(t), ["created_at", "last_used_at", "name", "role"]);
        assert!(t["created_at"].as_str().unwrap().ends_with('Z'), "{t}");
    }
    for s in [secret, api.admin.as_str(), api.viewer.as_str()] {
        assert!(!list.text.contains(s), "a secret leaked: {}", list.text);
    }
}

#[tokio::test]
async fn bad_token_requests_are_rejected() {
    let api = Api::new().await;
    let post = |body: Value| api.call("POST", "/api/v1/tokens", Some(&api.admin), Some(body));
    let missing = post(json!({})).await;
    assert_invalid(&missing, "name");
    assert_invalid(&missing, "role");
    assert_invalid(&post(json!({"name": "x", "role": "root"})).await, "role");
    assert_invalid(&post(json!({"name": " x", "role": "viewer"})).await, "name");
    assert_error(&post(json!({"name": "viewer", "role": "viewer"})).await, StatusCode::CONFLICT, "conflict");
    for token in [&api.operator, &api.viewer] {
        let create = api.call("POST", "/api/v1/tokens", Some(token), Some(json!({"name": "x", "role": "admin"}))).await;
        assert_error(&create, StatusCode::FORBIDDEN, "forbidden");
        let delete = api.call("DELETE", "/api/v1/tokens/admin", Some(token), None).await;
        assert_error(&delete, StatusCode::FORBIDDEN, "forbidden");
    }
    assert_eq!(api.get("/api/v1/tokens").await["tokens"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let api = Api::new().await;
    api.store.create_token("gone", stocksync_core::auth::Role::Admin, "gone-token-0123456789abcdef").await.unwrap();
    api.store.delete_token("gone").await.unwrap();
    let no_auth = api.send("GET", "/api/v1/fulfillment-centers", None, &[], None).await;
    assert_error(&(no_auth.status, no_auth.json), StatusCode::UNAUTHORIZED, "unauthorized");
    for header in ["Bearer not-a-token", "Bearer gone-token-0123456789abcdef", "Basic YWRtaW46YWRtaW4=", "Bearer "] {
        let r = api.send("GET", "/api/v1/fulfillment-centers", None, &[("authorization", header)], None).await;
        assert_error(&(r.status, r.json), StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let lower = format!("bearer {}", api.viewer);
    let r = api.send("GET", "/api/v1/fulfillment-centers", None, &[("authorization", &lower)], None).await;
    assert_eq!(r.status, StatusCode::OK, "the scheme is case-insensitive");
}

#[tokio::test]
async fn put_token_installs_or_replaces_a_named_admin_token() {
    // What `serve` does with STOCKSYNC_BOOTSTRAP_TOKEN (the process test is in `bootstrap`).
    let api = Api::new().await;
    let (first, second) = ("bootstrap-first-0123456789", "bootstrap-second-0123456789");
    api.store.put_token("bootstrap", stocksync_core::auth::Role::Admin, first).await.unwrap();
    let fcs = |t: &'static str| api.call("GET", "/api/v1/fulfillment-centers", Some(t), None);
    assert_eq!(fcs(first).await.0, StatusCode::OK);
    api.store.put_token("bootstrap", stocksync_core::auth::Role::Admin, second).await.unwrap();
    assert_error(&fcs(first).await, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(fcs(second).await.0, StatusCode::OK);
    let list = api.get("/api/v1/tokens").await;
    let boot: Vec<&Value> = list["tokens"].as_array().unwrap().iter().filter(|t| t["name"] == "bootstrap").collect();
    assert_eq!((boot.len(), &boot[0]["role"]), (1, &json!("admin")));
}
