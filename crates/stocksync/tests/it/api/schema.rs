//! Every answer a test receives is checked against the OpenAPI document:
//! the operation must declare the status, and the body must validate
//! against the declared schema. Object schemas are closed first
//! (`additionalProperties: false`), so a field the server sends but the
//! document does not describe fails too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

struct Doc {
    doc: Value,
    /// `components.schemas`, closed, with refs pointing at `#/$defs/`.
    defs: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn doc() -> &'static Doc {
    static DOC: OnceLock<Doc> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, api) = stocksync::http::api_with_doc();
        let doc = serde_json::to_value(&api).expect("the document serializes");
        let mut defs = doc["components"]["schemas"].clone();
        close(&mut defs);
        let defs = serde_json::from_str(&defs.to_string().replace("#/components/schemas/", "#/$defs/"))
            .expect("rewritten schemas");
        Doc { doc, defs, validators: Mutex::default() }
    })
}

/// The document the router serves, as JSON.
pub fn document() -> &'static Value {
    &doc().doc
}

/// Adds `additionalProperties: false` to every object schema with properties.
fn close(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            map.values_mut().for_each(close);
        }
        Value::Array(items) => items.iter_mut().for_each(close),
        _ => {}
    }
}

/// The document's path template for a concrete path (query string ignored).
pub fn template(path: &str) -> Option<&'static str> {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object()?;
    paths
        .keys()
        .filter_map(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            let fits = ts.len() == segments.len()
                && ts.iter().zip(&segments).all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s);
            // Prefer the template with the most literal segments.
            fits.then(|| (ts.iter().filter(|t| !t.starts_with('{')).count(), t.as_str()))
        })
        .max()
        .map(|(_, t)| t)
}

/// The operation object for `method` on a concrete path.
pub fn operation(method: &str, path: &str) -> Option<&'static Map<String, Value>> {
    document()["paths"][template(path)?][method.to_ascii_lowercase()].as_object()
}

/// Validates `instance` against `schema` (refs into the components).
pub fn validate(schema: &Value, instance: &Value) -> Result<(), Vec<String>> {
    let d = doc();
    let key = schema.to_string();
    let validator = {
        let mut cache = d.validators.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .entry(key.clone())
            .or_insert_with(|| {
                let mut root: Value =
                    serde_json::from_str(&key.replace("#/components/schemas/", "#/$defs/")).expect("schema");
                if let Value::Object(m) = &mut root {
                    m.insert("$defs".into(), d.defs.clone());
                }
                close(&mut root);
                let v = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("schema {key} does not compile: {e}"));
                Arc::new(v)
            })
            .clone()
    };
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Validates `instance` against `#/components/schemas/{name}`.
#[track_caller]
pub fn assert_valid(name: &str, instance: &Value) {
    assert!(document()["components"]["schemas"].get(name).is_some(), "no schema {name}");
    if let Err(e) = validate(&json!({"$ref": format!("#/components/schemas/{name}")}), instance) {
        panic!("{instance} does not match {name}: {e:?}");
    }
}

/// Checks one answer: an error envelope always matches `ErrorBody`; under a
/// documented operation, the status must be declared and the body match.
pub fn check_answer(method: &str, path: &str, status: StatusCode, text: &str, json: &Value) {
    if json.get("error").is_some() {
        assert_valid("ErrorBody", json);
    }
    let Some(op) = operation(method, path) else { return };
    let code = status.as_str();
    // 500 means a bug the test will report by its status; 405 is the router's.
    if status.is_server_error() || status == StatusCode::METHOD_NOT_ALLOWED {
        return;
    }
    let Some(response) = op["responses"].get(code) else {
        panic!("{method} {path} answered {status}, which the document does not declare: {text}");
    };
    let content = response.get("content").and_then(Value::as_object);
    match (content, response["content"]["application/json"].get("schema")) {
        (_, Some(schema)) => {
            if let Err(e) = validate(schema, json) {
                panic!("{method} {path} {status}: the answer does not match the document: {e:?}\n{text}");
            }
        }
        (None, None) => assert!(text.is_empty(), "{method} {path} {status}: undocumented body {text}"),
        // Another media type (Prometheus text): its shape is its test's business.
        (Some(_), None) => {}
    }
}
