//! `/api/v1/openapi.json` describes exactly what the router serves. (Every
//! answer of every test is also validated against it: see `schema`.)

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::auth::endpoints;
use super::schema::{self, document};
use super::support::Api;

/// Routes outside the authenticated API.
const OPEN: [(&str, &str); 3] = [("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/api/v1/openapi.json")];

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert((method.to_ascii_uppercase(), path.clone()));
        }
    }
    out
}

#[tokio::test]
async fn the_served_document_is_openapi_3_1_and_the_one_the_tests_check_against() {
    let api = Api::new().await;
    let (status, served) = api.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1."), "{}", served["openapi"]);
    assert_eq!(&served, document());
    assert_eq!(served["components"]["securitySchemes"]["bearer"], json!({"type": "http", "scheme": "bearer"}));
}

#[tokio::test]
async fn every_route_the_tests_exercise_is_documented_and_every_documented_route_is_served() {
    let documented = operations(document());
    let mut exercised: Vec<(&str, String)> = endpoints().into_iter().map(|(m, p, ..)| (m, p.to_owned())).collect();
    exercised.extend(OPEN.iter().map(|(m, p)| (*m, (*p).to_owned())));
    for (method, path) in &exercised {
        let template = schema::template(path).unwrap_or_else(|| panic!("{method} {path} is not documented"));
        assert!(
            documented.contains(&(method.to_string(), template.to_owned())),
            "{method} {template} is not documented"
        );
    }

    let api = Api::new().await;
    for (method, template) in &documented {
        let path =
            template.split('/').map(|s| if s.starts_with('{') { "zz-none" } else { s }).collect::<Vec<_>>().join("/");
        let body = (method != "GET" && method != "DELETE").then(|| json!({}));
        let (status, answer) = api.call(method, &path, Some(&api.admin), body).await;
        let fallback = answer["error"]["message"].as_str().is_some_and(|m| m.contains("no such resource"));
        assert!(
            status != StatusCode::METHOD_NOT_ALLOWED && !fallback,
            "{method} {template} is documented but not served: {answer}"
        );
    }
}

#[test]
fn operations_are_well_formed() {
    let mut ids = BTreeSet::new();
    for (path, item) in document()["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            for (status, response) in op["responses"].as_object().unwrap() {
                let description = response["description"].as_str().unwrap_or_default();
                assert!(!description.is_empty(), "{method} {path} {status} has no description");
            }
            if method == "post" {
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                let key = params.iter().find(|p| p["name"] == "Idempotency-Key");
                assert_eq!(
                    key.map(|k| &k["in"]),
                    Some(&json!("header")),
                    "{method} {path} does not declare Idempotency-Key"
                );
                assert!(op["responses"].get("409").is_some(), "{method} {path}: a reused key is a 409");
            }
            if op["requestBody"]["content"].get("application/json").is_some() {
                for status in ["400", "413", "422"] {
                    assert!(op["responses"].get(status).is_some(), "{method} {path} does not declare {status}");
                }
            }
            if op.get("security").is_none() {
                assert!(op["responses"].get("401").is_some(), "{method} {path} does not declare 401");
            }
        }
    }
}

#[test]
fn the_schemas_are_closed_and_strict() {
    // The validator behind every test is not vacuous: it refuses a missing
    // field, a wrong type and a field the document does not describe.
    let fc = json!({"code": "EAST", "name": "East", "priority": 1, "active": true});
    schema::assert_valid("Fc", &fc);
    let without = json!({"code": "EAST", "name": "East", "priority": 1});
    let wrong = json!({"code": "EAST", "name": "East", "priority": "1", "active": true});
    let extra = json!({"code": "EAST", "name": "East", "priority": 1, "active": true, "secret": "x"});
    for bad in [without, wrong, extra] {
        assert!(schema::validate(&json!({"$ref": "#/components/schemas/Fc"}), &bad).is_err(), "{bad}");
    }
    let envelope = json!({"error": {"code": "validation_failed", "message": "m", "details": [{"field": "lines[0].quantity", "message": "m"}]}});
    schema::assert_valid("ErrorBody", &envelope);
    assert!(schema::validate(&json!({"$ref": "#/components/schemas/ErrorBody"}), &json!({"error": "x"})).is_err());
}
