//! Request extractors that answer in the error envelope: a body that is not
//! JSON (or not the declared shape) is 400 `malformed_body` naming the path,
//! one over the limit is 413, and a bad query string is 422 naming the field.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::{ApiError, Detail};

/// Largest JSON body, in bytes: an order of 500 lines is ~50 KiB; 1 MiB
/// leaves room without letting one request hold much memory.
pub const JSON_BODY_MAX_BYTES: usize = 1 << 20;

/// A JSON body of type `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse_json(&bytes).map(Json)
    }
}

pub fn body_error(e: BytesRejection) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(JSON_BODY_MAX_BYTES)
    } else {
        ApiError::malformed(format!("the request body could not be read: {e}"))
    }
}

/// Parses `bytes` as `T`, naming the path of the first problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::malformed(format!("the body is not valid JSON: {e}"))
            .with_details(vec![Detail::field("", e.to_string())])
    })?;
    if !value.is_object() {
        return Err(ApiError::malformed("the body must be a JSON object")
            .with_details(vec![Detail::field("", "expected a JSON object")]));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let inner = e.into_inner().to_string();
        ApiError::malformed(format!("the body does not have the declared type: {path}: {inner}"))
            .with_details(vec![Detail::field(path, inner)])
    })
}

/// A query string of type `T`; a bad value is a 422 naming the parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw.as_bytes()));
        serde_path_to_error::deserialize(de).map(Query).map_err(|e| {
            let path = e.path().to_string();
            ApiError::invalid_field(if path == "." { "query".to_owned() } else { path }, e.into_inner().to_string())
        })
    }
}
