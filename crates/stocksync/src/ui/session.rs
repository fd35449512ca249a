//! Sign-in sessions. The cookie holds a random secret; the database holds
//! only its SHA-256, the user and an expiry. The cookie is HttpOnly (no
//! script can read it), SameSite=Lax (other sites' forms do not carry it)
//! and Secure when the request came over TLS (directly or, as a reverse
//! proxy reports it, `X-Forwarded-Proto: https`).

use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use stocksync_core::Timestamp;
use stocksync_core::auth::Role;

use super::page::UiError;
use crate::http::AppState;

pub const SESSION_COOKIE: &str = "stocksync_session";
/// A random value set before sign-in, so the sign-in form has a CSRF token too.
pub const PRE_SESSION_COOKIE: &str = "stocksync_pre";
/// How long a session lasts, in ms: a working day. Signing in again daily
/// bounds how long a stolen cookie is of use.
pub const SESSION_LIFETIME_MS: i64 = 12 * 3600 * 1000;

/// The signed-in user of this request.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// The session cookie's secret: CSRF tokens are derived from it.
    pub(super) secret: String,
}

impl User {
    /// A 403 page unless the user's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<(), UiError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(UiError::Forbidden(format!(
                "This needs the {} role; you are signed in as {} ({}).",
                needed.as_str(),
                self.name,
                self.role.as_str()
            )))
        }
    }

    /// The actor recorded on movements this user causes.
    pub fn actor(&self) -> String {
        format!("user:{}", self.name)
    }

    pub fn csrf(&self) -> String {
        super::csrf::token_for(&self.secret)
    }
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Whether the request arrived over TLS.
pub fn is_tls(parts_headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    uri.scheme_str() == Some("https")
        || parts_headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value; `max_age_s` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("stocksync_invalid=1"))
}

pub fn now() -> Timestamp {
    Timestamp(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64))
}

/// Where an anonymous request goes: the sign-in page, back here afterwards.
fn to_login(parts: &Parts) -> Response {
    let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    let mut res = Redirect::to(&format!("/login?next={next}")).into_response();
    // A stale cookie is cleared so the browser stops sending it.
    if cookie(&parts.headers, SESSION_COOKIE).is_some() {
        res.headers_mut().append(SET_COOKIE, set_cookie(SESSION_COOKIE, "", 0, is_tls(&parts.headers, &parts.uri)));
    }
    res
}

impl FromRequestParts<AppState> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(user) = parts.extensions.get::<User>() {
            return Ok(user.clone());
        }
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned) else {
            return Err(to_login(parts));
        };
        let found = state.store.session_user(&secret, now()).await.map_err(|e| UiError::from(e).into_response())?;
        let Some(found) = found else { return Err(to_login(parts)) };
        let user = User { name: found.name, role: found.role, secret };
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// A new random secret for a cookie (256 bits).
pub fn new_secret() -> Result<String, UiError> {
    crate::http::auth::new_secret().map_err(|e| UiError::Internal(e.message))
}
