//! `Idempotency-Key` on POSTs (API.md): the same key with the same request
//! replays the first response; with a different request it is a 409.
//!
//! Keys are scoped by the caller's credential (a hash of the bearer token),
//! so two clients cannot see each other's responses. Responses are stored in
//! the database, so a replay works across restarts and processes, and are
//! kept at least 24 hours (`stocksync_store::IDEMPOTENCY_KEEP_MS`). Only
//! answers that are final are stored: 2xx and 4xx other than 401, 403, 408
//! and 429. A 5xx may succeed on retry, so it is not pinned.
//!
//! A replay needs a token that is valid now: a deleted token gets 401, not
//! the answers it was given. An answer that carries a secret shown only
//! once (a new API token) is marked `Unrepeatable` and never stored, so
//! the database keeps no copy of the secret; a retry runs again.
//!
//! Uploads are streamed to a spool file and call `check`/`record` themselves
//! rather than go through `layer`, which would hold the whole body in memory.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use stocksync_store::RequestKey;
use stocksync_store::views::StoredResponse;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::JSON_BODY_MAX_BYTES;

pub const HEADER: &str = "idempotency-key";
/// Longest key accepted, in characters (Stripe's limit; a UUID is 36).
const KEY_MAX_CHARS: usize = 255;

/// A response extension: this answer must not be stored for replays.
#[derive(Debug, Clone, Copy)]
pub struct Unrepeatable;

/// Requests with a key that are running now, so that a concurrent retry
/// waits for the first answer instead of doing the work twice.
#[derive(Debug, Default, Clone)]
pub struct InFlight(Arc<Mutex<HashSet<(String, String)>>>);

/// A claim on a key while its request runs; released when dropped.
#[derive(Debug)]
pub struct Claim {
    set: InFlight,
    slot: (String, String),
    pub scope: String,
    pub key: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.set.0.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.slot);
    }
}

/// What to do with a keyed request.
#[derive(Debug)]
pub enum Outcome {
    /// Run it, then `record` the answer under the claim.
    Run(Claim),
    /// It was answered before: send this again.
    Replay(Response),
}

/// The key of this request, if it has one, checked.
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get(HEADER) else { return Ok(None) };
    let key = raw
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= KEY_MAX_CHARS && k.chars().all(|c| c.is_ascii_graphic()));
    match key {
        Some(k) => Ok(Some(k.to_owned())),
        None => Err(ApiError::invalid_field(
            "Idempotency-Key",
            format!("must be 1 to {KEY_MAX_CHARS} visible ASCII characters"),
        )),
    }
}

/// Whose keys these are: a hash of the credential, never the credential.
pub fn scope_of(headers: &HeaderMap) -> String {
    let auth = headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes).unwrap_or_default();
    hex(&Sha256::digest(auth)[..16])
}

/// A fingerprint of the request: method, path and query, body.
pub fn fingerprint(method: &Method, path_and_query: &str, body_hash: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b" ");
    h.update(path_and_query.as_bytes());
    h.update(b"\n");
    h.update(body_hash);
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Looks the key up: a replay, a 409 for a different request or one still
/// running, or a claim to run it.
pub async fn check(state: &AppState, scope: String, key: String, fingerprint: &str) -> Result<Outcome, ApiError> {
    if let Some(seen) = state.store.idempotent_response(&scope, &key).await? {
        if seen.fingerprint != fingerprint {
            return Err(ApiError::conflict(
                "this Idempotency-Key was used with a different request; use a new key for a new request",
            ));
        }
        // A placeholder means the change was committed but its answer never
        // stored: the handler runs again, and the store makes it only once.
        if seen.status != StoredResponse::APPLIED {
            let mut res = Response::new(Body::from(seen.body));
            *res.status_mut() = StatusCode::from_u16(seen.status).unwrap_or(StatusCode::OK);
            res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            return Ok(Outcome::Replay(res));
        }
    }
    let slot = (scope.clone(), key.clone());
    let fresh = state.in_flight.0.lock().unwrap_or_else(PoisonError::into_inner).insert(slot.clone());
    if !fresh {
        return Err(ApiError::conflict("a request with this Idempotency-Key is still being processed; retry shortly"));
    }
    Ok(Outcome::Run(Claim { set: state.in_flight.clone(), slot, scope, key }))
}

/// Stores the answer to a claimed request if it is final, and returns it.
pub async fn record(state: &AppState, claim: Claim, fingerprint: String, res: Response) -> Response {
    let status = res.status();
    if res.extensions().get::<Unrepeatable>().is_some() {
        return res;
    }
    let final_answer = status.is_success()
        || (status.is_client_error()
            && ![
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN,
                StatusCode::REQUEST_TIMEOUT,
                StatusCode::TOO_MANY_REQUESTS,
            ]
            .contains(&status));
    if !final_answer {
        return res;
    }
    let (parts, body) = res.into_parts();
    // Our own JSON answers: small, already in memory.
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => return ApiError::internal(format!("could not read the response: {e}")).into_response(),
    };
    let stored = state
        .store
        .record_idempotent_response(&claim.scope, &claim.key, &fingerprint, status.as_u16(), bytes.to_vec())
        .await;
    if let Err(e) = stored {
        tracing::warn!(error = %e, "could not store an idempotent response; a retry will run again");
    }
    drop(claim);
    Response::from_parts(parts, Body::from(bytes))
}

/// Middleware for JSON POSTs: buffers the (size-limited) body to fingerprint it.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || req.uri().path().contains("/uploads/") {
        return next.run(req).await;
    }
    let key = match key_of(req.headers()) {
        Ok(Some(k)) => k,
        Ok(None) => return next.run(req).await,
        Err(e) => return e.into_response(),
    };
    let scope = scope_of(req.headers());
    let (mut parts, body) = req.into_parts();
    // API requests are authenticated before any replay; the handler reuses
    // this `Caller`. (Webhooks outside `/api/` are verified their own way.)
    if parts.uri.path().starts_with("/api/")
        && let Err(e) = Caller::from_request_parts(&mut parts, &state).await
    {
        return e.into_response();
    }
    let bytes = match to_bytes(body, JSON_BODY_MAX_BYTES).await {
        Ok(b) => b,
        Err(_) => return ApiError::too_large(JSON_BODY_MAX_BYTES).into_response(),
    };
    let path = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), ToString::to_string);
    let fp = fingerprint(&parts.method, &path, &Sha256::digest(&bytes));
    match check(&state, scope, key, &fp).await {
        Err(e) => e.into_response(),
        Ok(Outcome::Replay(res)) => res,
        Ok(Outcome::Run(claim)) => {
            parts.extensions.insert(RequestKey {
                scope: claim.scope.clone(),
                key: claim.key.clone(),
                fingerprint: fp.clone(),
            });
            let res = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            record(&state, claim, fp, res).await
        }
    }
}
