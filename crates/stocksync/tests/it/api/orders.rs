//! `/channels/{id}/orders` and `/orders`: submission, edits, statuses, cancel and ship.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::support::{Api, assert_error, assert_has, assert_invalid, order_lines};

/// EAST (priority 1) with 10 MUG-1 and 4 SPOON-1, and one `api` channel.
async fn shop() -> (Api, i64) {
    let api = Api::new().await;
    api.fc("EAST", 1).await;
    api.item("MUG-1").await;
    api.item("SPOON-1").await;
    api.stock("MUG-1", "EAST", 10).await;
    api.stock("SPOON-1", "EAST", 4).await;
    let ch = api.channel("shop", json!({})).await;
    (api, ch)
}

#[tokio::test]
async fn a_new_order_is_201_and_the_same_order_again_is_200_with_nothing_applied_twice() {
    let (api, ch) = shop().await;
    let body = json!({"external_id": "A-1", "placed_at": "2024-05-01T10:00:00Z",
        "lines": order_lines(&[("1", "MUG-1", 3), ("2", "SPOON-1", 1)])});
    let (status, order) = api.order_body(ch, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_has(
        &order,
        &[
            "id",
            "channel",
            "external_id",
            "status",
            "placed_at",
            "imported_at",
            "updated_at",
            "fulfillment_centers",
            "lines",
            "trace",
        ],
    );
    assert_eq!(
        (&order["channel"], &order["external_id"], &order["status"]),
        (&json!(ch), &json!("A-1"), &json!("allocated"))
    );
    assert_eq!(order["placed_at"], "2024-05-01T10:00:00.000Z");
    assert_eq!(order["fulfillment_centers"], json!(["EAST"]));
    let line = &order["lines"][0];
    assert_has(line, &["line_id", "channel_sku", "sku", "quantity", "allocations", "backordered"]);
    assert_eq!((&line["line_id"], &line["channel_sku"], &line["sku"]), (&json!("1"), &json!("MUG-1"), &json!("MUG-1")));
    assert_eq!((&line["quantity"], &line["backordered"]), (&json!(3), &json!(0)));
    assert_has(&line["allocations"][0], &["fc", "sku", "quantity"]);
    assert_eq!((&line["allocations"][0]["fc"], &line["allocations"][0]["quantity"]), (&json!("EAST"), &json!(3)));
    assert!(order["trace"].as_array().unwrap().iter().all(Value::is_string) && order["trace"][0].is_string());

    let (status, again) = api.order_body(ch, body).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!((&again["id"], &again["lines"]), (&order["id"], &order["lines"]));
    assert_eq!(api.level("MUG-1", "EAST").await, (10, 3, 7));
    assert_eq!(api.get(&format!("/api/v1/orders/{}", order["id"])).await["lines"], order["lines"]);
    api.assert_consistent().await;
}

#[tokio::test]
async fn an_edited_order_applies_the_difference_once() {
    let (api, ch) = shop().await;
    let (_, order) = api.order(ch, "A-1", &[("1", "MUG-1", 3), ("2", "SPOON-1", 2)]).await;
    assert_eq!((api.level("MUG-1", "EAST").await.1, api.level("SPOON-1", "EAST").await.1), (3, 2));
    // The channel lowers line 1 to 1 unit and drops line 2.
    for _ in 0..2 {
        let (status, edited) = api.order(ch, "A-1", &[("1", "MUG-1", 1)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(edited["id"], order["id"]);
        let lines = edited["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 1, "{edited}");
        assert_eq!((&lines[0]["quantity"], &lines[0]["allocations"][0]["quantity"]), (&json!(1), &json!(1)));
        assert_eq!(api.level("MUG-1", "EAST").await, (10, 1, 9));
        assert_eq!(api.level("SPOON-1", "EAST").await, (4, 0, 4));
    }
    // And raises it again.
    let (_, raised) = api.order(ch, "A-1", &[("1", "MUG-1", 4)]).await;
    assert_eq!(raised["lines"][0]["allocations"][0]["quantity"], 4);
    assert_eq!(api.level("MUG-1", "EAST").await, (10, 4, 6));
    api.assert_consistent().await;
}

#[tokio::test]
async fn cancel_releases_and_ship_takes_units_off_the_shelf() {
    let (api, ch) = shop().await;
    let (_, a) = api.order(ch, "A", &[("1", "MUG-1", 3)]).await;
    let (_, b) = api.order(ch, "B", &[("1", "MUG-1", 2)]).await;
    assert_eq!(api.level("MUG-1", "EAST").await, (10, 5, 5));
    let post = |path: String, token: &str| api.call("POST", &path, Some(token), None);
    let cancel = |id: &Value| format!("/api/v1/orders/{id}/cancel");
    let ship = |id: &Value| format!("/api/v1/orders/{id}/ship");

    let (status, cancelled) = post(cancel(&a["id"]), &api.operator).await;
    assert_eq!((status, &cancelled["status"]), (StatusCode::OK, &json!("cancelled")));
    assert_eq!(api.level("MUG-1", "EAST").await, (10, 2, 8));
    assert_error(&post(cancel(&a["id"]), &api.operator).await, StatusCode::CONFLICT, "conflict");
    assert_error(&post(ship(&a["id"]), &api.operator).await, StatusCode::CONFLICT, "conflict");

    let (status, shipped) = post(ship(&b["id"]), &api.operator).await;
    assert_eq!((status, &shipped["status"]), (StatusCode::OK, &json!("shipped")));
    assert_eq!(api.level("MUG-1", "EAST").await, (8, 0, 8));
    assert_error(&post(cancel(&b["id"]), &api.operator).await, StatusCode::CONFLICT, "conflict");
    assert_eq!(api.level("MUG-1", "EAST").await, (8, 0, 8));

    for id in [json!(999), json!("abc")] {
        assert_error(&post(cancel(&id), &api.operator).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(&post(ship(&id), &api.operator).await, StatusCode::NOT_FOUND, "not_found");
        let get = api.call("GET", &format!("/api/v1/orders/{id}"), Some(&api.viewer), None).await;
        assert_error(&get, StatusCode::NOT_FOUND, "not_found");
    }
    let (_, c) = api.order(ch, "C", &[("1", "MUG-1", 1)]).await;
    assert_error(&post(cancel(&c["id"]), &api.viewer).await, StatusCode::FORBIDDEN, "forbidden");
    assert_error(&post(ship(&c["id"]), &api.viewer).await, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(api.get(&format!("/api/v1/orders/{}", c["id"])).await["status"], "allocated");
    api.assert_consistent().await;
}

#[tokio::test]
async fn a_channel_can_report_an_order_shipped_or_cancelled() {
    let (api, ch) = shop().await;
    let lines = order_lines(&[("1", "MUG-1", 2)]);
    let (_, open) = api.order_body(ch, json!({"external_id": "A", "status": "open", "lines": lines})).await;
    assert_eq!(open["status"], "allocated");
    let (_, shipped) = api.order_body(ch, json!({"external_id": "A", "status": "shipped", "lines": lines})).await;
    assert_eq!(shipped["status"], "shipped");
    assert_eq!(api.level("MUG-1", "EAST").await, (8, 0, 8));
    let (status, cancelled) =
        api.order_body(ch, json!({"external_id": "B", "status": "cancelled", "lines": lines})).await;
    assert_eq!((status, &cancelled["status"]), (StatusCode::CREATED, &json!("cancelled")));
    assert_eq!(api.level("MUG-1", "EAST").await, (8, 0, 8));
    api.assert_consistent().await;
}

#[tokio::test]
async fn bad_orders_name_their_fields_and_change_nothing() {
    let (api, ch) = shop().await;
    let submit = |body| api.order_body(ch, body);
    let missing = submit(json!({})).await;
    assert_invalid(&missing, "external_id");
    assert_invalid(&missing, "lines");
    let bad_lines = json!({"external_id": "A", "lines": [
        {"line_id": "1", "channel_sku": "MUG-1", "quantity": 0},
        {"channel_sku": "MUG-1", "quantity": 1}]});
    let bad = submit(bad_lines).await;
    assert_invalid(&bad, "lines[0].quantity");
    assert_invalid(&bad, "lines[1].line_id");
    let lines = order_lines(&[("1", "MUG-1", 1)]);
    assert_invalid(&submit(json!({"external_id": "A", "status": "lost", "lines": lines})).await, "status");
    assert_invalid(&submit(json!({"external_id": "A", "placed_at": "yesterday", "lines": lines})).await, "placed_at");
    let wrong =
        submit(json!({"external_id": "A", "lines": [{"line_id": "1", "channel_sku": "MUG-1", "quantity": "2"}]})).await;
    assert_error(&wrong, StatusCode::BAD_REQUEST, "malformed_body");
    assert_eq!(wrong.1["error"]["details"][0]["field"], "lines[0].quantity");
    assert_eq!(api.get("/api/v1/orders").await["orders"], json!([]));
    assert_eq!(api.level("MUG-1", "EAST").await, (10, 0, 10));

    for path in ["/api/v1/channels/999/orders", "/api/v1/channels/abc/orders"] {
        let unknown =
            api.call("POST", path, Some(&api.operator), Some(json!({"external_id": "A", "lines": lines}))).await;
        assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
    }
    let viewer = api.call(
        "POST",
        &format!("/api/v1/channels/{ch}/orders"),
        Some(&api.viewer),
        Some(json!({"external_id": "A", "lines": lines})),
    );
    assert_error(&viewer.await, StatusCode::FORBIDDEN, "forbidden");
    api.assert_consistent().await;
}

#[tokio::test]
async fn the_order_list_filters_and_pages_newest_first() {
    let (api, ch) = shop().await;
    api.fc("WEST", 2).await;
    api.stock("SPOON-1", "WEST", 5).await;
    let other = api.channel("market", json!({})).await;
    let place = |ch: i64, ext: &'static str, at: &'static str, sku: &'static str, qty: i64| {
        let body = json!({"external_id": ext, "placed_at": at, "lines": order_lines(&[("1", sku, qty)])});
        api.order_body(ch, body)
    };
    place(ch, "A", "2024-05-01T10:00:00Z", "MUG-1", 1).await;
    place(ch, "B", "2024-05-02T10:00:00Z", "SPOON-1", 6).await; // EAST 4 + WEST 2
    place(other, "C", "2024-05-03T10:00:00Z", "MUG-1", 20).await; // backordered
    let (_, d) = place(ch, "D", "2024-05-04T10:00:00Z", "MUG-1", 1).await;
    api.call("POST", &format!("/api/v1/orders/{}/cancel", d["id"]), Some(&api.operator), None).await;

    let ext = |v: &Value| -> Vec<String> {
        v["orders"].as_array().unwrap().iter().map(|o| o["external_id"].as_str().unwrap().to_owned()).collect()
    };
    let q = |query: &str| api.get(&format!("/api/v1/orders?{query}"));
    let all = api.get("/api/v1/orders").await;
    assert_eq!(super::support::keys(&all), ["next_cursor", "orders"]);
    assert_eq!(ext(&all), ["D", "C", "B", "A"]);
    assert_eq!(all["orders"][0]["status"], "cancelled");
    assert_eq!(ext(&q(&format!("channel={other}")).await), ["C"]);
    assert_eq!(ext(&q("status=backordered").await), ["C"]);
    assert_eq!(ext(&q("status=cancelled").await), ["D"]);
    assert_eq!(ext(&q("fc=WEST").await), ["B"]);
    assert_eq!(ext(&q("sku=SPOON-1").await), ["B"]);
    assert_eq!(ext(&q("placed_after=2024-05-02T10:00:00Z&placed_before=2024-05-04T00:00:00Z").await), ["C", "B"]);

    let page = q("limit=3").await;
    assert_eq!(ext(&page), ["D", "C", "B"]);
    let rest = q(&format!("limit=3&cursor={}", page["next_cursor"].as_str().unwrap())).await;
    assert_eq!((ext(&rest), &rest["next_cursor"]), (vec!["A".to_owned()], &Value::Null));

    let bad = |query: &str| api.call("GET", &format!("/api/v1/orders?{query}"), Some(&api.viewer), None);
    assert_invalid(&bad("status=lost").await, "status");
    assert_invalid(&bad("placed_after=soon").await, "placed_after");
    assert_invalid(&bad("channel=abc").await, "channel");
    assert_invalid(&bad("limit=1001").await, "limit");
    api.assert_consistent().await;
}
