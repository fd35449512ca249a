//! Sign-in and sign-out.

use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Deserialize;
use stocksync_core::Timestamp;

use super::csrf::{self, Fields, Form};
use super::page::{FormError, FromSerde, UiError, UiResult, render};
use super::password;
use super::session::{self, PRE_SESSION_COOKIE, SESSION_COOKIE, SESSION_LIFETIME_MS};
use crate::http::AppState;

/// How long the pre-session cookie lasts, in seconds: long enough to fill in the form.
const PRE_SESSION_MAX_AGE_S: i64 = 3600;

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only a path on this site may follow sign-in (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn page(pre: &str, next: &str, name: &str, errors: &[FormError], status: StatusCode) -> UiResult {
    let ctx =
        context! { csrf => csrf::token_for(pre), next => next, name => name, errors => Value::from_serde(errors) };
    render("login.html", status, ctx)
}

/// The sign-in form; sets the pre-session cookie its token comes from.
pub async fn form(headers: HeaderMap, uri: Uri, Query(q): Query<Next>) -> UiResult {
    let (pre, fresh) = match session::cookie(&headers, PRE_SESSION_COOKIE) {
        Some(p) => (p.to_owned(), false),
        None => (session::new_secret()?, true),
    };
    let mut res = page(&pre, &safe_next(q.next.as_deref()), "", &[], StatusCode::OK)?;
    if fresh {
        let cookie =
            session::set_cookie(PRE_SESSION_COOKIE, &pre, PRE_SESSION_MAX_AGE_S, session::is_tls(&headers, &uri));
        res.headers_mut().append(SET_COOKIE, cookie);
    }
    Ok(res)
}

pub async fn submit(State(st): State<AppState>, headers: HeaderMap, uri: Uri, body: axum::body::Bytes) -> UiResult {
    let fields = Fields::parse(&body);
    let Some(pre) = session::cookie(&headers, PRE_SESSION_COOKIE).map(str::to_owned) else {
        return Err(UiError::Csrf);
    };
    if !csrf::matches(&pre, fields.get("csrf")) {
        return Err(UiError::Csrf);
    }
    let next = safe_next(fields.get("next"));
    let name = fields.get("name").unwrap_or_default().to_owned();
    let password = fields.raw("password").to_owned();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(FormError::new("name", "is required"));
    }
    if password.is_empty() {
        errors.push(FormError::new("password", "is required"));
    }
    if !errors.is_empty() {
        return page(&pre, &next, &name, &errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let found = st.store.user_credentials(&name).await?;
    let hash = found.as_ref().map(|(_, h)| h.clone());
    let ok = tokio::task::spawn_blocking(move || password::verify(&password, hash.as_deref()))
        .await
        .map_err(|e| UiError::Internal(format!("checking the password failed: {e}")))?;
    let user = match found {
        Some((user, _)) if ok => user,
        _ => {
            tracing::info!(user = %name, "sign-in refused");
            let e = FormError::new("password", "the username or the password is wrong");
            return page(&pre, &next, &name, &[e], StatusCode::UNAUTHORIZED);
        }
    };
    let secret = session::new_secret()?;
    let now = session::now();
    st.store.create_session(&user.name, &secret, Timestamp(now.0 + SESSION_LIFETIME_MS)).await?;
    tracing::info!(user = %user.name, "signed in");
    let tls = session::is_tls(&headers, &uri);
    let mut res = Redirect::to(&next).into_response();
    res.headers_mut().append(SET_COOKIE, session::set_cookie(SESSION_COOKIE, &secret, SESSION_LIFETIME_MS / 1000, tls));
    // The pre-session value was seen by this sign-in; a new one comes with the next form.
    res.headers_mut().append(SET_COOKIE, session::set_cookie(PRE_SESSION_COOKIE, "", 0, tls));
    Ok(res)
}

/// Ends the session (CSRF-checked, so no other site can sign you out).
pub async fn logout(State(st): State<AppState>, headers: HeaderMap, uri: Uri, form: Form) -> Response {
    if let Err(e) = st.store.delete_session(&form.user.secret).await {
        return UiError::from(e).into_response();
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(SET_COOKIE, session::set_cookie(SESSION_COOKIE, "", 0, session::is_tls(&headers, &uri)));
    res
}
