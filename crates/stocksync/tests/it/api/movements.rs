//! `/movements`: the ledger with its filters and after-values.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::support::{Api, assert_invalid, keys};

fn rows(v: &Value) -> &Vec<Value> {
    v["movements"].as_array().unwrap()
}

#[tokio::test]
async fn every_change_is_a_movement_with_its_after_values() {
    let api = Api::new().await;
    api.fc("EAST", 1).await;
    api.fc("WEST", 2).await;
    api.item("MUG-1").await;
    api.item("SPOON-1").await;
    let put = json!({"on_hand": 10, "reason": "first count"});
    api.ok("PUT", "/api/v1/inventory/MUG-1/EAST", put, StatusCode::OK).await;
    api.stock("SPOON-1", "WEST", 3).await;
    let ch = api.channel("shop", json!({})).await;
    let (_, order) = api.order(ch, "A", &[("1", "MUG-1", 4)]).await;
    let adjust = json!({"delta": -1, "reason": "broken"});
    api.ok("POST", "/api/v1/inventory/MUG-1/EAST/adjustments", adjust, StatusCode::OK).await;

    let all = api.get("/api/v1/movements").await;
    assert_eq!(keys(&all), ["movements", "next_cursor"]);
    assert_eq!(rows(&all).len(), 4, "{all}");
    let first = &rows(&all)[0];
    assert_eq!(
        keys(first),
        [
            "actor",
            "at",
            "committed_after",
            "committed_delta",
            "fc",
            "id",
            "on_hand_after",
            "on_hand_delta",
            "reason",
            "reference",
            "sku"
        ]
    );
    assert_eq!(
        (&first["sku"], &first["fc"], &first["on_hand_delta"], &first["on_hand_after"]),
        (&json!("MUG-1"), &json!("EAST"), &json!(10), &json!(10))
    );
    assert_eq!((&first["reason"], &first["actor"]), (&json!("first count"), &json!("token:admin")));
    assert!(first["at"].as_str().unwrap().ends_with('Z'));
    let ids: Vec<i64> = rows(&all).iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");

    let mine = api.get("/api/v1/movements?sku=MUG-1&fc=EAST").await;
    let deltas: Vec<(i64, i64, i64, i64)> = rows(&mine)
        .iter()
        .map(|m| {
            (
                m["on_hand_delta"].as_i64().unwrap(),
                m["committed_delta"].as_i64().unwrap(),
                m["on_hand_after"].as_i64().unwrap(),
                m["committed_after"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(deltas, [(10, 0, 10, 0), (0, 4, 10, 4), (-1, 0, 9, 4)]);

    let by_order = api.get(&format!("/api/v1/movements?order={}", order["id"])).await;
    assert_eq!(rows(&by_order).len(), 1);
    assert_eq!(rows(&by_order)[0]["reference"], format!("order:{}", order["id"]));
    assert_eq!(rows(&by_order)[0]["actor"], "token:operator");
    assert_eq!(rows(&api.get("/api/v1/movements?fc=WEST").await)[0]["sku"], "SPOON-1");
    assert!(rows(&api.get("/api/v1/movements?sku=NOPE").await).is_empty());

    let after = api.get(&format!("/api/v1/movements?after_id={}", ids[1])).await;
    let after_ids: Vec<i64> = rows(&after).iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(after_ids, ids[2..]);

    let page = api.get("/api/v1/movements?limit=3").await;
    assert_eq!(rows(&page).len(), 3);
    let rest = api.get(&format!("/api/v1/movements?limit=3&cursor={}", page["next_cursor"].as_str().unwrap())).await;
    assert_eq!((rows(&rest).len(), &rest["next_cursor"]), (1, &Value::Null));

    let bad = |q: &str| api.call("GET", &format!("/api/v1/movements?{q}"), Some(&api.viewer), None);
    assert_invalid(&bad("limit=1001").await, "limit");
    assert_invalid(&bad("after_id=x").await, "after_id");
    assert_invalid(&bad("order=x").await, "order");
    api.assert_consistent().await;
}
