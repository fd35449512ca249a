//! Walmart contract, against Walmart's own OpenAPI documents (YAML):
//! the inventory PUT body the connector sends, the simulator's inventory
//! answers and error objects, and its token answer validate strictly; the
//! paths, query parameters and required headers used are the spec's.

use serde_json::{Value, json};
use stocksync_channels::sim::Faults;
use stocksync_channels::sim::walmart::{ItemSeed, WalmartSim};

use crate::specs::{self, Oas};
use crate::walmart::{CLIENT_ID, CLIENT_SECRET, entry, start};

struct Specs {
    inventory: Value,
    auth: Value,
}

fn load() -> Option<Specs> {
    let dir = specs::dir()?;
    Some(Specs {
        inventory: specs::read_yaml(&dir.join("walmart/walmart-marketplace-inventory-openapi-original.yml")),
        auth: specs::read_yaml(&dir.join("walmart/walmart-marketplace-authentication-openapi-original.yml")),
    })
}

/// The inline JSON schema of an operation's request body or 200 answer.
fn inline(spec: &Value, path: &str, method: &str, part: &str) -> Value {
    let op = &spec["paths"][path][method];
    let schema = match part {
        "request" => &op["requestBody"]["content"]["application/json"]["schema"],
        _ => &op["responses"]["200"]["content"]["application/json"]["schema"],
    };
    assert!(schema.is_object(), "{method} {path} has no {part} schema");
    specs::strictly(schema.clone())
}

fn names(spec: &Value, path: &str, method: &str) -> Vec<String> {
    specs::parameter_names(spec, path, method)
}

#[test]
fn the_paths_parameters_and_headers_used_are_the_specs() {
    let Some(s) = load() else { return };
    let put = names(&s.inventory, "/v3/inventory", "put");
    let list = names(&s.inventory, "/v3/inventories", "get");
    let token = names(&s.auth, "/v3/token", "post");
    for (op, have, want) in [
        ("updateInventoryForAnItem", &put, &["sku", "WM_SEC.ACCESS_TOKEN", "WM_QOS.CORRELATION_ID", "WM_SVC.NAME"][..]),
        ("getMultiNodeInventoryForAllSkuAndAllShipNodes", &list, &["limit", "nextCursor", "WM_SEC.ACCESS_TOKEN"]),
        ("tokenAPI", &token, &["Authorization", "WM_QOS.CORRELATION_ID", "WM_SVC.NAME"]),
    ] {
        for p in want {
            assert!(have.iter().any(|x| x == p), "{op} has no parameter {p}: {have:?}");
        }
    }
    let grant = &s.auth["paths"]["/v3/token"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        ["properties"]["grant_type"]["enum"];
    assert!(grant.as_array().is_some_and(|g| g.iter().any(|v| v == "client_credentials")), "{grant}");
}

#[tokio::test]
async fn inventory_bodies_answers_and_errors_fit_the_inventory_spec() {
    let Some(s) = load() else { return };
    let oas = Oas::load(&s.inventory);
    let request = inline(&s.inventory, "/v3/inventory", "put", "request");
    let misspelt = json!({ "sku": "A", "quantity": { "unit": "EA", "amount": 1, "amnt": 2 } });
    assert_eq!(oas.errors(request.clone(), &misspelt).len(), 2, "strict: an unknown unit and a misspelt field");
    let (sim, running, c) = start(WalmartSim::new(CLIENT_ID, CLIENT_SECRET, Faults::default())).await;
    sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 1 });
    let results = c.push(&[entry("A-1", 3), entry("NOPE", 1)]).await;
    assert!(results[0].is_ok() && results[1].is_err());
    for body in sim.inventory_requests() {
        let errors = oas.errors(request.clone(), &body);
        assert!(errors.is_empty(), "{errors:?}: {body}");
        oas.assert_valid("Inventory", &body);
    }

    let token: Value = crate::client()
        .post(format!("{}/v3/token", running.url()))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("WM_QOS.CORRELATION_ID", "b3261d2d-028a-4ef7-8602-633c23200af6")
        .header("WM_SVC.NAME", "Walmart Marketplace")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token_schema = inline(&s.auth, "/v3/token", "post", "answer");
    assert!(oas.errors(token_schema, &token).is_empty(), "{token}");
    let access = token["access_token"].as_str().unwrap();
    let call = |method: reqwest::Method, path: &str| {
        crate::client()
            .request(method, format!("{}{path}", running.url()))
            .header("WM_SEC.ACCESS_TOKEN", access)
            .header("WM_QOS.CORRELATION_ID", "b3261d2d-028a-4ef7-8602-633c23200af6")
            .header("WM_SVC.NAME", "Walmart Marketplace")
    };
    let put = call(reqwest::Method::PUT, "/v3/inventory?sku=A-1")
        .json(&json!({ "sku": "A-1", "quantity": { "unit": "EACH", "amount": 2 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    assert!(put.headers().contains_key("x-current-token-count") && put.headers().contains_key("x-next-replenish-time"));
    let echo: Value = put.json().await.unwrap();
    assert!(oas.errors(inline(&s.inventory, "/v3/inventory", "put", "answer"), &echo).is_empty(), "{echo}");
    let list: Value = call(reqwest::Method::GET, "/v3/inventories?limit=1").send().await.unwrap().json().await.unwrap();
    let list_errors = oas.errors(inline(&s.inventory, "/v3/inventories", "get", "answer"), &list);
    assert!(list_errors.is_empty(), "{list_errors:?}: {list}");

    let missing = call(reqwest::Method::PUT, "/v3/inventory?sku=NOPE")
        .json(&json!({ "sku": "NOPE", "quantity": { "unit": "EACH", "amount": 2 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    let body: Value = missing.json().await.unwrap();
    for e in body["errors"]["error"].as_array().unwrap() {
        oas.assert_valid("Error", e);
    }
}
