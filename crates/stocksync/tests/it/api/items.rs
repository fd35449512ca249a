//! `/items`: stock items, bundles, aliases.

use axum::http::StatusCode;
use serde_json::json;

use super::support::{Api, assert_error, assert_invalid, keys};

#[tokio::test]
async fn create_get_and_list_items_and_bundles() {
    let api = Api::new().await;
    let body = json!({"sku": "MUG-1", "title": "Mug", "kind": "stock", "aliases": ["MUG-OLD"]});
    let mug = api.ok("POST", "/api/v1/items", body, StatusCode::CREATED).await;
    assert_eq!(mug, json!({"sku": "MUG-1", "title": "Mug", "kind": "stock", "components": [], "aliases": ["MUG-OLD"]}));
    api.item("SPOON-1").await;
    let body = json!({"sku": "SET-1", "title": "Breakfast set", "kind": "bundle",
        "components": [{"sku": "MUG-1", "quantity": 2}, {"sku": "SPOON-1", "quantity": 1}]});
    let set = api.ok("POST", "/api/v1/items", body, StatusCode::CREATED).await;
    assert_eq!(set["components"], json!([{"sku": "MUG-1", "quantity": 2}, {"sku": "SPOON-1", "quantity": 1}]));

    assert_eq!(api.get("/api/v1/items/SET-1").await, set);
    let all = api.get("/api/v1/items").await;
    assert_eq!(keys(&all), ["items", "next_cursor"]);
    let skus = |v: &serde_json::Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|i| i["sku"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(skus(&all), ["MUG-1", "SET-1", "SPOON-1"]);
    assert_eq!(all["next_cursor"], serde_json::Value::Null);
    assert_eq!(skus(&api.get("/api/v1/items?kind=bundle").await), ["SET-1"]);
    assert_eq!(skus(&api.get("/api/v1/items?q=breakfast").await), ["SET-1"]);
    assert_eq!(skus(&api.get("/api/v1/items?q=mug&kind=stock").await), ["MUG-1"]);

    let page = api.get("/api/v1/items?limit=2").await;
    assert_eq!(skus(&page), ["MUG-1", "SET-1"]);
    let cursor = page["next_cursor"].as_str().expect("a full page has a cursor");
    let rest = api.get(&format!("/api/v1/items?limit=2&cursor={cursor}")).await;
    assert_eq!(skus(&rest), ["SPOON-1"]);
    assert_eq!(rest["next_cursor"], serde_json::Value::Null);
}

#[tokio::test]
async fn duplicates_conflict_and_bad_items_name_their_fields() {
    let api = Api::new().await;
    api.item("MUG-1").await;
    let dup = api.call("POST", "/api/v1/items", Some(&api.admin), Some(json!({"sku": "MUG-1", "kind": "stock"})));
    assert_error(&dup.await, StatusCode::CONFLICT, "conflict");

    let post = |body| api.call("POST", "/api/v1/items", Some(&api.admin), Some(body));
    assert_invalid(&post(json!({"kind": "stock"})).await, "sku");
    assert_invalid(&post(json!({"sku": "X", "kind": "thing"})).await, "kind");
    let bundle = json!({"sku": "B", "kind": "bundle", "components": [{"sku": "NOPE", "quantity": 1}]});
    assert_invalid(&post(bundle).await, "components[0].sku");
    let bundle = json!({"sku": "B", "kind": "bundle", "components": [{"sku": "MUG-1", "quantity": 0}]});
    assert_invalid(&post(bundle).await, "components[0].quantity");
    assert_invalid(&post(json!({"sku": "B", "kind": "bundle", "components": []})).await, "components");
    assert_invalid(&post(json!({"sku": "Y", "kind": "stock", "aliases": ["MUG-1"]})).await, "aliases[0]");
    let wrong = post(json!({"sku": "B", "kind": "bundle", "components": [{"sku": "MUG-1", "quantity": "2"}]})).await;
    assert_error(&wrong, StatusCode::BAD_REQUEST, "malformed_body");
    assert_eq!(wrong.1["error"]["details"][0]["field"], "components[0].quantity");

    assert_eq!(api.get("/api/v1/items").await["items"].as_array().unwrap().len(), 1);
    let missing = api.call("GET", "/api/v1/items/NOPE", Some(&api.viewer), None).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    assert_invalid(&api.call("GET", "/api/v1/items?kind=nope", Some(&api.viewer), None).await, "kind");
    assert_invalid(&api.call("GET", "/api/v1/items?limit=1001", Some(&api.viewer), None).await, "limit");
    assert_invalid(&api.call("GET", "/api/v1/items?limit=0", Some(&api.viewer), None).await, "limit");
    assert_invalid(&api.call("GET", "/api/v1/items?cursor=zz", Some(&api.viewer), None).await, "cursor");
}

#[tokio::test]
async fn patch_replaces_lists_and_keeps_the_rest() {
    let api = Api::new().await;
    api.item("MUG-1").await;
    api.item("SPOON-1").await;
    api.bundle("SET-1", &[("MUG-1", 1)]).await;
    let path = "/api/v1/items/SET-1";
    let set = api.ok("PATCH", path, json!({"title": "Set"}), StatusCode::OK).await;
    assert_eq!(set["components"], json!([{"sku": "MUG-1", "quantity": 1}]));
    let body = json!({"components": [{"sku": "SPOON-1", "quantity": 3}], "aliases": ["SET-A"]});
    let set = api.ok("PATCH", path, body, StatusCode::OK).await;
    assert_eq!(
        set,
        json!({"sku": "SET-1", "title": "Set", "kind": "bundle",
        "components": [{"sku": "SPOON-1", "quantity": 3}], "aliases": ["SET-A"]})
    );
    let set = api.ok("PATCH", path, json!({"aliases": []}), StatusCode::OK).await;
    assert_eq!(set["aliases"], json!([]));
    assert_eq!(set["title"], "Set");

    let patch = |path: &str, body| api.call("PATCH", path, Some(&api.admin), Some(body));
    assert_invalid(&patch(path, json!({"kind": "stock"})).await, "kind");
    assert_invalid(&patch(path, json!({"components": [{"sku": "SET-1", "quantity": 1}]})).await, "components[0].sku");
    assert_invalid(&patch("/api/v1/items/MUG-1", json!({"aliases": ["SPOON-1"]})).await, "aliases[0]");
    let missing = patch("/api/v1/items/NOPE", json!({"title": "x"})).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(api.get(path).await, set);
}

#[tokio::test]
async fn only_admins_change_items() {
    let api = Api::new().await;
    api.item("MUG-1").await;
    for token in [&api.operator, &api.viewer] {
        let post = api.call("POST", "/api/v1/items", Some(token), Some(json!({"sku": "X", "kind": "stock"}))).await;
        assert_error(&post, StatusCode::FORBIDDEN, "forbidden");
        let patch = api.call("PATCH", "/api/v1/items/MUG-1", Some(token), Some(json!({"title": "x"}))).await;
        assert_error(&patch, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(api.call("GET", "/api/v1/items/MUG-1", Some(token), None).await.0, StatusCode::OK);
    }
    assert_eq!(api.get("/api/v1/items").await["items"].as_array().unwrap().len(), 1);
}
