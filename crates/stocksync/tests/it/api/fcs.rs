//! `/fulfillment-centers`.

use axum::http::StatusCode;
use serde_json::json;

use super::support::{Api, assert_error, assert_invalid, keys};

const FCS: &str = "/api/v1/fulfillment-centers";

#[tokio::test]
async fn create_answers_201_with_the_fc_and_list_sorts_by_priority_then_code() {
    let api = Api::new().await;
    let fc = api.ok("POST", FCS, json!({"code": "WEST", "name": "West", "priority": 2}), StatusCode::CREATED).await;
    assert_eq!(fc, json!({"code": "WEST", "name": "West", "priority": 2, "active": true}));
    let body = json!({"code": "EAST", "name": "East", "priority": 2, "active": false});
    api.ok("POST", FCS, body, StatusCode::CREATED).await;
    api.fc("NORTH", 1).await;

    let list = api.get(FCS).await;
    assert_eq!(keys(&list), ["fulfillment_centers"]);
    let codes: Vec<&str> =
        list["fulfillment_centers"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["NORTH", "EAST", "WEST"]);
    assert_eq!(list["fulfillment_centers"][1]["active"], false);
}

#[tokio::test]
async fn a_duplicate_code_is_a_conflict() {
    let api = Api::new().await;
    api.fc("EAST", 1).await;
    let again =
        api.call("POST", FCS, Some(&api.admin), Some(json!({"code": "EAST", "name": "x", "priority": 3}))).await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");
    assert_eq!(api.get(FCS).await["fulfillment_centers"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_fcs_name_every_bad_field() {
    let api = Api::new().await;
    let missing = api.call("POST", FCS, Some(&api.admin), Some(json!({}))).await;
    for field in ["code", "name", "priority"] {
        assert_invalid(&missing, field);
    }
    let bad_code = api.call("POST", FCS, Some(&api.admin), Some(json!({"code": "A B", "name": "x", "priority": 1})));
    assert_invalid(&bad_code.await, "code");
    let bad_priority = api.call("POST", FCS, Some(&api.admin), Some(json!({"code": "A", "name": "x", "priority": 0})));
    assert_invalid(&bad_priority.await, "priority");
    let wrong_type = api.call("POST", FCS, Some(&api.admin), Some(json!({"code": "A", "name": "x", "priority": "1"})));
    let wrong_type = wrong_type.await;
    assert_error(&wrong_type, StatusCode::BAD_REQUEST, "malformed_body");
    assert_eq!(wrong_type.1["error"]["details"][0]["field"], "priority");
    assert!(api.get(FCS).await["fulfillment_centers"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn patch_changes_only_the_given_fields() {
    let api = Api::new().await;
    api.fc("EAST", 1).await;
    let path = format!("{FCS}/EAST");
    let fc = api.ok("PATCH", &path, json!({"priority": 5}), StatusCode::OK).await;
    assert_eq!(fc, json!({"code": "EAST", "name": "EAST warehouse", "priority": 5, "active": true}));
    let fc = api.ok("PATCH", &path, json!({"name": "East coast", "active": false}), StatusCode::OK).await;
    assert_eq!(fc, json!({"code": "EAST", "name": "East coast", "priority": 5, "active": false}));
    assert_eq!(api.get(FCS).await["fulfillment_centers"][0], fc);

    let bad = api.call("PATCH", &path, Some(&api.admin), Some(json!({"priority": -1}))).await;
    assert_invalid(&bad, "priority");
    let unknown = api.call("PATCH", &format!("{FCS}/NOPE"), Some(&api.admin), Some(json!({"priority": 1}))).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn only_admins_change_fcs() {
    let api = Api::new().await;
    api.fc("EAST", 1).await;
    let body = json!({"code": "WEST", "name": "West", "priority": 2});
    for token in [&api.operator, &api.viewer] {
        assert_error(&api.call("POST", FCS, Some(token), Some(body.clone())).await, StatusCode::FORBIDDEN, "forbidden");
        let patch = api.call("PATCH", &format!("{FCS}/EAST"), Some(token), Some(json!({"priority": 9}))).await;
        assert_error(&patch, StatusCode::FORBIDDEN, "forbidden");
    }
    for token in [&api.operator, &api.viewer] {
        assert_eq!(api.call("GET", FCS, Some(token), None).await.0, StatusCode::OK);
    }
    assert_eq!(api.get(FCS).await["fulfillment_centers"][0]["priority"], 1);
}
