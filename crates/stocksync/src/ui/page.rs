//! What every page shares: the layout's context, HTML error pages, form
//! errors that name their field, and display formatting.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Serialize;
use stocksync_core::auth::Role;
use stocksync_core::{FieldError, Rejection, Timestamp};
use stocksync_store::StoreError;

use super::session::User;
use super::templates;

/// A page that could not be shown.
#[derive(Debug)]
pub enum UiError {
    NotFound(String),
    Forbidden(String),
    BadRequest(String),
    /// A form without the session's CSRF token.
    Csrf,
    Internal(String),
}

impl From<StoreError> for UiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Rejected(Rejection::NotFound(m)) => Self::NotFound(m),
            StoreError::Rejected(r) => Self::BadRequest(r.to_string()),
            other => {
                tracing::error!(error = %other, "page failed in the store");
                Self::Internal("The server failed to complete the request; it has been logged.".into())
            }
        }
    }
}

impl From<anyhow::Error> for UiError {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = %format!("{e:#}"), "page failed");
        Self::Internal("The server failed to complete the request; it has been logged.".into())
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            Self::NotFound(m) => (StatusCode::NOT_FOUND, "Not found", m),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m),
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad request", m),
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "The form did not carry this session's security token. Go back, reload the page and try again.".into(),
            ),
            Self::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", m),
        };
        // The navigation shows (an anonymous click on it leads to sign-in); the sign-out form needs the user.
        let ctx = context! { title => title, message => message.clone(), status => status.as_u16(), show_nav => true };
        match templates::render("error.html", ctx) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "the error page failed to render");
                (status, message).into_response()
            }
        }
    }
}

pub type UiResult<T = Response> = Result<T, UiError>;

/// The layout's context: who is signed in, what they may do, the CSRF
/// token for forms, which navigation entry is current, and a notice.
pub fn base(user: &User, nav: &str) -> Value {
    context! {
        user => context! { name => user.name.clone(), role => user.role.as_str() },
        can_operate => user.role.allows(Role::Operator),
        can_admin => user.role.allows(Role::Admin),
        csrf => user.csrf(),
        nav => nav,
    }
}

/// Renders `name` with the page's values merged over the layout's.
pub fn render(name: &str, status: StatusCode, ctx: Value) -> UiResult {
    let html = templates::render(name, ctx).map_err(|e| {
        tracing::error!(error = %e, "a page failed to render");
        UiError::Internal("The page failed to render; it has been logged.".into())
    })?;
    Ok((status, Html(html)).into_response())
}

/// After a successful POST: back to a page, with a notice to show there.
pub fn done(to: &str, notice: &str) -> Response {
    let sep = if to.contains('?') { '&' } else { '?' };
    let notice: String = form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    Redirect::to(&format!("{to}{sep}notice={notice}")).into_response()
}

/// One problem with one form field, shown next to it and in a summary.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FormError {
    pub field: String,
    pub message: String,
}

impl FormError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// Field errors from a store rejection (others become one error on `form_field`).
pub fn form_errors(e: StoreError, form_field: &str) -> Result<Vec<FormError>, UiError> {
    match e {
        StoreError::Rejected(Rejection::Invalid(es)) => Ok(es.into_iter().map(from_field).collect()),
        StoreError::Rejected(r @ (Rejection::Conflict(_) | Rejection::NotFound(_))) => {
            Ok(vec![FormError::new(form_field, r.to_string())])
        }
        other => Err(other.into()),
    }
}

fn from_field(e: FieldError) -> FormError {
    // The store names settings as `settings.KEY`; the forms name them `KEY`.
    let field = e.field.strip_prefix("settings.").unwrap_or(&e.field).to_owned();
    FormError { field, message: e.message }
}

/// `2025-01-02 10:11:12` (UTC) for a time in epoch ms.
pub fn time(t: Timestamp) -> String {
    let s = t.to_string();
    let s = s.split('.').next().unwrap_or(&s).trim_end_matches('Z');
    s.replacen('T', " ", 1)
}

pub fn time_opt(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "never".to_owned(), time)
}

/// An integer form field, naming the field when it is not one.
pub fn int_field(errors: &mut Vec<FormError>, field: &str, raw: Option<&str>) -> Option<i64> {
    let raw = raw?;
    match raw.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(FormError::new(field, format!("must be a whole number, got {raw:?}")));
            None
        }
    }
}

/// A path segment (SKU, FC code) made safe for a URL.
pub fn segment(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// A serializable value for a template context.
pub trait FromSerde {
    fn from_serde<T: Serialize>(v: T) -> Self;
}

impl FromSerde for Value {
    fn from_serde<T: Serialize>(v: T) -> Self {
        Value::from(minijinja::value::Serde(v))
    }
}
