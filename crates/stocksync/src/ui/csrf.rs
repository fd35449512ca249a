//! CSRF protection. Every form carries a hidden `csrf` field whose value is
//! derived from the session's secret (a synchronizer token that needs no
//! storage): another site can neither read it (the cookie is HttpOnly and
//! pages are same-origin) nor compute it. Before sign-in, the token is
//! derived from a random pre-session cookie instead, so the sign-in form
//! is protected too (login CSRF). SameSite=Lax cookies are a second layer.
//!
//! `Form` reads an urlencoded body and refuses it (403) unless its token
//! matches the signed-in user's session.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::page::UiError;
use super::session::User;
use crate::http::AppState;

/// Largest form body, in bytes: the biggest form (an item with many
/// components and aliases) is a few KiB.
pub const FORM_BODY_MAX_BYTES: usize = 256 * 1024;

/// The form token for a session (or pre-session) secret.
pub fn token_for(secret: &str) -> String {
    Sha256::new()
        .chain_update(b"stocksync-csrf\0")
        .chain_update(secret.as_bytes())
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `given` is the token for `secret`, compared in constant time.
pub fn matches(secret: &str, given: Option<&str>) -> bool {
    let Some(given) = given else { return false };
    let expected = token_for(secret);
    expected.len() == given.len() && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// The fields of an urlencoded form, in order (repeated keys kept).
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// The first value of `name`, trimmed; empty counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The first value of `name` as sent (untrimmed), or "".
    pub fn raw(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// Every non-empty value of `name` (checkbox groups, multi-selects).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim().to_owned()).collect()
    }

    /// A checkbox: present means on.
    pub fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

/// A CSRF-checked form posted by the signed-in user.
#[derive(Debug)]
pub struct Form {
    pub user: User,
    pub fields: Fields,
}

impl FromRequest<AppState> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let user = User::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes = axum::body::to_bytes(req.into_body(), FORM_BODY_MAX_BYTES)
            .await
            .map_err(|_| UiError::BadRequest("The form is too large.".into()).into_response())?;
        let fields = Fields::parse(&bytes);
        if !matches(&user.secret, fields.get("csrf")) {
            return Err(UiError::Csrf.into_response());
        }
        Ok(Self { user, fields })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_per_secret_and_checked_exactly() {
        let t = super::token_for("s1");
        assert_ne!(t, super::token_for("s2"));
        assert!(super::matches("s1", Some(&t)));
        assert!(!super::matches("s2", Some(&t)));
        assert!(!super::matches("s1", Some(&t[1..])));
        assert!(!super::matches("s1", None));
    }
}
