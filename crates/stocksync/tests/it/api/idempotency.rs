//! `Idempotency-Key` on POSTs: replays, conflicts, and no double effects.

use axum::http::StatusCode;
use serde_json::json;

use super::support::{Api, Reply, order_lines};

async fn shop() -> (Api, i64) {
    let api = Api::new().await;
    api.fc("EAST", 1).await;
    api.item("MUG-1").await;
    api.stock("MUG-1", "EAST", 10).await;
    let ch = api.channel("shop", json!({})).await;
    (api, ch)
}

async fn post(api: &Api, path: &str, token: &str, key: &str, body: &serde_json::Value) -> Reply {
    api.send("POST", path, Some(token), &[("idempotency-key", key)], Some(body.to_string())).await
}

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_answer_once() {
    let (api, _) = shop().await;
    let path = "/api/v1/inventory/MUG-1/EAST/adjustments";
    let body = json!({"delta": -2, "reason": "sold at the counter"});
    let first = post(&api, path, &api.operator, "adj-1", &body).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let replay = post(&api, path, &api.operator, "adj-1", &body).await;
    assert_eq!((replay.status, &replay.text), (first.status, &first.text));
    assert_eq!(replay.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(api.level("MUG-1", "EAST").await, (8, 0, 8), "applied once");

    let changed = post(&api, path, &api.operator, "adj-1", &json!({"delta": -3})).await;
    assert_eq!((changed.status, &changed.json["error"]["code"]), (StatusCode::CONFLICT, &json!("conflict")));
    let elsewhere = post(&api, "/api/v1/inventory/MUG-1/EAST/adjustments?x=1", &api.operator, "adj-1", &body).await;
    assert_eq!(elsewhere.status, StatusCode::CONFLICT, "the key names one request: method, path and body");
    // Keys belong to one token: another token's same key is a new request.
    let other = post(&api, path, &api.admin, "adj-1", &body).await;
    assert_eq!((other.status, other.headers.get("idempotent-replayed")), (StatusCode::OK, None));
    assert_eq!(api.level("MUG-1", "EAST").await, (6, 0, 6));
    api.assert_consistent().await;
}

/// A process commits an adjustment and dies before it answers (or
/// before it stores the answer); the client sends the same request again,
/// to this process or another. The delta is not applied twice.
#[tokio::test]
async fn an_adjustment_whose_answer_was_lost_is_applied_once() {
    use sha2::{Digest, Sha256};
    use stocksync::http::idempotency::{fingerprint, scope_of};

    let (api, _) = shop().await;
    let path = "/api/v1/inventory/MUG-1/EAST/adjustments";
    let body = json!({"delta": -2, "reason": "sold at the counter"});
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {}", api.operator).parse().unwrap());
    let request = stocksync_store::RequestKey {
        scope: scope_of(&headers),
        key: "adj-lost".into(),
        fingerprint: fingerprint(&axum::http::Method::POST, path, &Sha256::digest(body.to_string())),
    };
    // What the first process committed before it died.
    api.store.adjust_stock_once(request.clone(), "MUG-1", "EAST", -2, None, "operator").await.unwrap();
    assert_eq!(api.level("MUG-1", "EAST").await, (8, 0, 8));

    let retry = post(&api, path, &api.operator, "adj-lost", &body).await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.text);
    assert_eq!(retry.json["on_hand"], json!(8), "answers with the level as it is: {}", retry.text);
    assert_eq!(api.level("MUG-1", "EAST").await, (8, 0, 8), "not applied again");
    let replay = post(&api, path, &api.operator, "adj-lost", &body).await;
    assert_eq!((replay.status, &replay.text), (retry.status, &retry.text), "the answer is stored now");
    let changed = post(&api, path, &api.operator, "adj-lost", &json!({"delta": -3})).await;
    assert_eq!(changed.status, StatusCode::CONFLICT, "the placeholder names its request");
    // The store alone: a second claim of the same request changes nothing.
    api.store.adjust_stock_once(request, "MUG-1", "EAST", -2, None, "operator").await.unwrap();
    assert_eq!(api.level("MUG-1", "EAST").await, (8, 0, 8));
    api.assert_consistent().await;
}

#[tokio::test]
async fn order_submissions_and_errors_replay_too() {
    let (api, ch) = shop().await;
    let path = format!("/api/v1/channels/{ch}/orders");
    let body = json!({"external_id": "A-1", "lines": order_lines(&[("1", "MUG-1", 3)])});
    let first = post(&api, &path, &api.operator, "order-A-1", &body).await;
    let replay = post(&api, &path, &api.operator, "order-A-1", &body).await;
    assert_eq!((first.status, replay.status), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(replay.json, first.json);
    assert_eq!(api.level("MUG-1", "EAST").await, (10, 3, 7));
    // Without the key, the same order is recognised by its external id.
    let (status, _) = api.order(ch, "A-1", &[("1", "MUG-1", 3)]).await;
    assert_eq!(status, StatusCode::OK);

    let invalid = json!({"external_id": "B"});
    let first = post(&api, &path, &api.operator, "bad", &invalid).await;
    let replay = post(&api, &path, &api.operator, "bad", &invalid).await;
    assert_eq!((first.status, replay.status), (StatusCode::UNPROCESSABLE_ENTITY, StatusCode::UNPROCESSABLE_ENTITY));
    assert_eq!(replay.headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    api.assert_consistent().await;
}

#[tokio::test]
async fn refused_and_unauthenticated_requests_are_not_pinned() {
    let (api, _) = shop().await;
    let path = "/api/v1/inventory/MUG-1/EAST/adjustments";
    let body = json!({"delta": 1});
    assert_eq!(post(&api, path, &api.viewer, "k", &body).await.status, StatusCode::FORBIDDEN);
    assert_eq!(post(&api, path, &api.viewer, "k", &body).await.headers.get("idempotent-replayed"), None);
    let bad = api.send("POST", path, Some(&api.operator), &[("idempotency-key", "")], Some(body.to_string())).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    api.assert_consistent().await;
}

#[tokio::test]
async fn a_deleted_token_cannot_replay_its_answers() {
    let (api, _) = shop().await;
    let created =
        api.ok("POST", "/api/v1/tokens", json!({"name": "ci", "role": "operator"}), StatusCode::CREATED).await;
    let secret = created["token"].as_str().unwrap().to_owned();
    let path = "/api/v1/inventory/MUG-1/EAST/adjustments";
    let body = json!({"delta": 1});
    assert_eq!(post(&api, path, &secret, "k", &body).await.status, StatusCode::OK);
    api.send("DELETE", "/api/v1/tokens/ci", Some(&api.admin), &[], None).await;
    let replay = post(&api, path, &secret, "k", &body).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "{}", replay.text);
    api.assert_consistent().await;
}

#[tokio::test]
async fn a_new_token_secret_is_never_kept_for_replays() {
    let api = Api::new().await;
    let body = json!({"name": "ci", "role": "viewer"});
    let first = post(&api, "/api/v1/tokens", &api.admin, "tok-1", &body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let secret = first.json["token"].as_str().unwrap();
    // The database keeps token hashes only: no copy of the secret anywhere.
    assert!(!api.db.holds_text(secret), "the secret is stored in the database");
    let again = post(&api, "/api/v1/tokens", &api.admin, "tok-1", &body).await;
    assert!(!again.text.contains(secret), "a replay shows the secret again: {}", again.text);
    api.assert_consistent().await;
}
