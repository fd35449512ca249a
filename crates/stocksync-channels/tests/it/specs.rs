//! The official API contracts, read from the shared folder: `../shared/specs`
//! beside the workspace root, or `STOCKSYNC_SPECS_DIR`. Absent, the contract
//! tests say so and skip, except under `CI=true`, where absence fails.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

pub fn dir() -> Option<PathBuf> {
    let dir = std::env::var_os("STOCKSYNC_SPECS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs"));
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!("API specs not found at {} (set STOCKSYNC_SPECS_DIR to the specs folder)", dir.display());
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}; CI must run the contract tests");
    eprintln!("skipping contract test: {message}");
    None
}

pub fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    if path.extension().is_some_and(|x| x == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("decompressing {}: {e}", path.display()));
        return serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    }
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// A YAML document (Walmart publishes its OpenAPI documents as YAML).
pub fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// An inline schema (one not under `components`), made strict the same way.
pub fn strictly(mut schema: Value) -> Value {
    strict(&mut schema);
    schema
}

/// An OAS 3.0 document's component schemas as one JSON Schema (draft 7)
/// validating `root`. Made strict: objects allow only the properties the spec
/// names, so a misspelt field fails instead of passing unseen. `nullable`
/// becomes a `null` alternative of the type.
pub struct Oas {
    components: Value,
}

impl Oas {
    pub fn load(spec: &Value) -> Self {
        let mut schemas = spec["components"]["schemas"].clone();
        assert!(schemas.is_object(), "the spec has no components.schemas");
        strict(&mut schemas);
        Self { components: json!({ "schemas": schemas }) }
    }

    /// A Swagger 2.0 document's `definitions`, loaded the same way (its
    /// `#/definitions/…` references become `#/components/schemas/…`).
    pub fn load_swagger(spec: &Value) -> Self {
        let definitions = spec["definitions"].to_string().replace("#/definitions/", "#/components/schemas/");
        let schemas: Value = serde_json::from_str(&definitions).unwrap_or(Value::Null);
        Self::load(&json!({ "components": { "schemas": schemas } }))
    }

    /// Errors of `instance` against `schema` (a JSON Schema that may `$ref`
    /// `#/components/schemas/…`).
    pub fn errors(&self, schema: Value, instance: &Value) -> Vec<String> {
        let root = json!({ "allOf": [schema], "components": self.components });
        let validator = jsonschema::draft7::new(&root).unwrap_or_else(|e| panic!("schema does not compile: {e}"));
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    /// Panics naming every error of `instance` against component `name`.
    pub fn assert_valid(&self, name: &str, instance: &Value) {
        let errors = self.errors(json!({ "$ref": format!("#/components/schemas/{name}") }), instance);
        assert!(errors.is_empty(), "{name} does not validate:\n{}\n{instance:#}", errors.join("\n"));
    }
}

fn strict(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("nullable") == Some(&Value::Bool(true)) {
                m.remove("nullable");
                if let Some(Value::String(t)) = m.get("type").cloned() {
                    m.insert("type".into(), json!([t, "null"]));
                }
            }
            let is_object_schema =
                m.get("properties").is_some_and(Value::is_object) && !m.contains_key("additionalProperties");
            if is_object_schema {
                m.insert("additionalProperties".into(), Value::Bool(false));
            }
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if k == "properties" {
                    if let Some(Value::Object(props)) = m.get_mut("properties") {
                        props.values_mut().for_each(strict);
                    }
                } else if let Some(child) = m.get_mut(&k) {
                    strict(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// The names of an OAS operation's parameters (`in: query` and others).
pub fn parameter_names(spec: &Value, path: &str, method: &str) -> Vec<String> {
    let op = &spec["paths"][path][method];
    assert!(op.is_object(), "the spec has no {method} {path}");
    op["parameters"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["name"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}
