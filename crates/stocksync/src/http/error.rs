//! The one place where failures become HTTP answers: the error envelope of
//! API.md, `{"error": {"code", "message", "details"}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use stocksync_core::{FieldError, Rejection};
use stocksync_store::StoreError;
use utoipa::ToSchema;

/// One problem with one part of the input: a JSON field path, or a CSV line and column.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Detail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

impl Detail {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: Some(field.into()), line: None, column: None, message: message.into() }
    }

    pub fn line(line: u64, column: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: None, line: Some(line), column: Some(column.into()), message: message.into() }
    }
}

impl From<FieldError> for Detail {
    fn from(e: FieldError) -> Self {
        Self::field(e.field, e.message)
    }
}

/// An API failure: a status, a stable code, a sentence, and the details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Detail>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorObject,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorObject {
    /// One of malformed_body, validation_failed, not_found, conflict,
    /// unauthorized, forbidden, payload_too_large, rate_limited, internal.
    pub code: String,
    pub message: String,
    pub details: Vec<Detail>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new_status(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: Vec::new() }
    }

    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new_status(StatusCode::BAD_REQUEST, "malformed_body", message)
    }

    pub fn invalid(details: Vec<Detail>) -> Self {
        let message = match details.as_slice() {
            [one] => format!("validation failed: {}", describe(one)),
            many => format!("validation failed: {} problems", many.len()),
        };
        Self { details, ..Self::new_status(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message) }
    }

    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid(vec![Detail::field(field, message)])
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new_status(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new_status(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new_status(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new_status(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn too_large(limit_bytes: usize) -> Self {
        Self::new_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the limit of {limit_bytes} bytes"),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new_status(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    pub fn with_details(mut self, details: Vec<Detail>) -> Self {
        self.details = details;
        self
    }
}

fn describe(d: &Detail) -> String {
    match (&d.field, d.line, &d.column) {
        (Some(f), _, _) => format!("{f}: {}", d.message),
        (None, Some(l), Some(c)) => format!("line {l}, column {c}: {}", d.message),
        _ => d.message.clone(),
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::Invalid(errors) => Self::invalid(errors.into_iter().map(Detail::from).collect()),
            Rejection::NotFound(m) => Self::not_found(m),
            Rejection::Conflict(m) => Self::conflict(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected(r) => r.into(),
            other => {
                // Logged once, here, where it becomes an answer; the client
                // gets a generic sentence (database errors can name internals).
                tracing::error!(error = %other, "request failed in the store");
                Self::internal("the server failed to complete the request; it has been logged")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorObject { code: self.code.to_owned(), message: self.message, details: self.details },
        };
        (self.status, Json(body)).into_response()
    }
}
