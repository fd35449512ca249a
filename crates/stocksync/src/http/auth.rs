//! Bearer-token authentication and roles (API.md "Auth").
//!
//! Every API handler takes a `Caller`; extracting it answers 401 without a
//! valid token. Handlers then state the role they need with `require`,
//! which answers 403. Tokens are looked up by their SHA-256 (the store never
//! sees or keeps a plaintext), and `last_used_at` is written at most once a
//! minute per token so that reads stay reads.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use stocksync_core::auth::Role;

use super::AppState;
use super::error::ApiError;

/// How often a token's `last_used_at` is refreshed at most.
const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// Who is calling: the token's name and role.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

impl Caller {
    /// 403 unless the caller's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {} role; the token {:?} has {}",
                needed.as_str(),
                self.name,
                self.role.as_str()
            )))
        }
    }

    /// The actor recorded on movements this caller causes.
    pub fn actor(&self) -> String {
        format!("token:{}", self.name)
    }
}

/// When each token was last marked as used, to throttle those writes.
#[derive(Debug, Default)]
pub struct Touches(Mutex<HashMap<String, Instant>>);

impl Touches {
    fn due(&self, name: &str) -> bool {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        match map.get(name) {
            Some(t) if now.duration_since(*t) < TOUCH_INTERVAL => false,
            _ => {
                map.insert(name.to_owned(), now);
                true
            }
        }
    }
}

/// The secret in `Authorization: Bearer <token>`, if the header has that form.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let Some(secret) = bearer(parts) else {
            return Err(ApiError::unauthorized("send an API token as `Authorization: Bearer <token>`"));
        };
        let Some(token) = state.store.authenticate(secret).await? else {
            return Err(ApiError::unauthorized("the token is not valid (unknown or deleted)"));
        };
        if state.touches.due(&token.name) {
            let (store, name) = (state.store.clone(), token.name.clone());
            // Bookkeeping only: never delays or fails the request.
            tokio::spawn(async move {
                if let Err(e) = store.touch_token(&name).await {
                    tracing::warn!(token.name = %name, error = %e, "could not record token use");
                }
            });
        }
        let caller = Caller { name: token.name, role: token.role };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// A new random token secret: `ss_` and 43 base64url characters (256 bits).
pub fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness available: {e}")))?;
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::from("ss_");
    let mut acc: u32 = 0;
    let mut bits = 0;
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(ALPHABET[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (6 - bits)) & 63) as usize] as char);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_long_and_distinct() {
        let (a, b) = (super::new_secret().unwrap(), super::new_secret().unwrap());
        assert_eq!(a.len(), 3 + 43);
        assert_ne!(a, b);
        assert!(a[3..].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
