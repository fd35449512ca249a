//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! served at `/api/v1/openapi.json`. `finish` adds what every operation
//! shares and no single handler states: the answers of the middleware and
//! extractors, and `Idempotency-Key` on POSTs.

use std::sync::Arc;

use axum::Json;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required, Type};
use utoipa::{Modify, OpenApi};

use super::extract::JSON_BODY_MAX_BYTES;

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "stocksync", description = "Multichannel inventory and order hub that never oversells. See API.md."),
    paths(document),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", operation_id = "get_openapi_document", tag = "meta",
    security(()), responses((status = 200, description = "the OpenAPI 3.1 document", body = Object)))]
#[expect(dead_code, reason = "describes the route `router` serves with `serve`")]
fn document() {}

pub async fn serve(doc: Arc<utoipa::openapi::OpenApi>) -> Json<serde_json::Value> {
    Json(serde_json::to_value(&*doc).unwrap_or_default())
}

/// Adds to every operation the answers the handlers' annotations leave out
/// (400 and 413 for a JSON body, from the extractor; 409 and 422 for an
/// `Idempotency-Key` on a POST, from the middleware), declares that header,
/// and gives every response a description, which OpenAPI requires.
pub fn finish(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.put, &mut item.patch, &mut item.delete];
        for op in ops.into_iter().flatten() {
            shared_answers(op, false);
        }
        if let Some(op) = &mut item.post {
            shared_answers(op, true);
        }
    }
}

fn shared_answers(op: &mut Operation, post: bool) {
    let json_body = matches!(&op.request_body, Some(RefOr::T(b)) if b.content.contains_key("application/json"));
    let responses = &mut op.responses.responses;
    if json_body {
        responses.entry("400".into()).or_insert_with(error_response);
        responses.entry("413".into()).or_insert_with(error_response);
    }
    if post {
        responses.entry("409".into()).or_insert_with(error_response);
        responses.entry("422".into()).or_insert_with(error_response);
        let key = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Replays the first answer to a request with the same key and body (409 if the body differs). \
                 1 to 255 visible ASCII characters.",
            ))
            .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(Type::String).max_length(Some(255))))
            .build();
        op.parameters.get_or_insert_with(Vec::new).push(key.into());
    }
    for (status, response) in responses.iter_mut() {
        if let RefOr::T(r) = response
            && r.description.is_empty()
        {
            r.description = describe(status);
        }
    }
}

fn error_response() -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .content("application/json", Content::new(Some(Ref::from_schema_name("ErrorBody"))))
        .build()
        .into()
}

/// What a status means in this API (API.md "Errors").
fn describe(status: &str) -> String {
    let text = match status {
        "200" => "success",
        "201" => "created",
        "204" => "done; no body",
        "400" => "malformed_body: the body is not JSON, or not the declared type (details name the path)",
        "401" => "unauthorized: no valid bearer token",
        "403" => "forbidden: the token's role is too weak",
        "404" => "not_found: no such resource",
        "409" => {
            "conflict: it already exists, the state does not allow it, or the Idempotency-Key was used \
                  for a different request"
        }
        "413" => return format!("payload_too_large: the body is over {JSON_BODY_MAX_BYTES} bytes"),
        "422" => "validation_failed: details name every bad field",
        "503" => "the database does not answer",
        _ => "see API.md",
    };
    text.to_owned()
}
