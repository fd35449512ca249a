//! The LWA token endpoint, `POST /auth/o2/token` (form-encoded): the
//! `refresh_token` grant with the app's `client_id` and `client_secret`,
//! answered `{access_token, refresh_token, token_type, expires_in}`, or
//! OAuth's `{error, error_description}`.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde_json::json;

use super::AmazonSim;

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({ "error": error, "error_description": description }))).into_response()
}

pub(super) async fn token(State(sim): State<AmazonSim>, Form(form): Form<HashMap<String, String>>) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if field("grant_type") != "refresh_token" {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "Only refresh_token is simulated");
    }
    let a = &sim.account;
    if field("client_id") != a.client_id || field("client_secret") != a.client_secret {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    if field("refresh_token") != a.refresh_token {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        );
    }
    let mut st = sim.lock();
    st.stats.tokens_issued += 1;
    let token = format!("Atza|sim-{}-{}", st.stats.tokens_issued, fastrand::u64(..));
    let ttl = st.token_ttl_s;
    let expires = st.clock.now().millis().saturating_add(i64::try_from(ttl * 1000).unwrap_or(i64::MAX));
    st.tokens.insert(token.clone(), expires);
    Json(json!({ "access_token": token, "refresh_token": a.refresh_token, "token_type": "bearer", "expires_in": ttl }))
        .into_response()
}
