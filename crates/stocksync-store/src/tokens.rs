//! API tokens, stored as SHA-256 hashes. A token is a long random secret
//! made by stocksync (or given as the bootstrap token), not a password a
//! person chose, so a fast unsalted hash is enough to make a stolen
//! database useless for logging in; the plaintext is shown once and never
//! stored. Both backends store them the same way, through these helpers.

use sha2::{Digest, Sha256};
use stocksync_core::auth::{Role, token_name};
use stocksync_core::{FieldError, Rejection, Timestamp};

use crate::error::{Result, StoreError};
use crate::views::TokenView;

/// Shortest secret accepted, in characters: enough entropy that guessing is hopeless.
pub const TOKEN_SECRET_MIN_CHARS: usize = 20;

/// The stored form of a secret: lowercase hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Validates a token's name and secret; returns the name.
pub(crate) fn check(name: &str, secret: &str, min_chars: usize) -> Result<String> {
    let mut errors = Vec::new();
    let name = token_name(name).map_err(|e| errors.push(e)).ok();
    if secret.chars().count() < min_chars.max(1) {
        errors.push(FieldError::new("token", format!("must be at least {} characters", min_chars.max(1))));
    }
    match name {
        Some(name) if errors.is_empty() => Ok(name),
        _ => Err(Rejection::Invalid(errors).into()),
    }
}

/// A stored row `(name, role, created_at, last_used_at)` as a view.
pub(crate) fn to_view((name, role, created, used): (String, String, i64, Option<i64>)) -> Result<TokenView> {
    let role = Role::parse("role", &role).map_err(|e| StoreError::Internal(format!("token {name}: stored {e}")))?;
    Ok(TokenView { name, role, created_at: Timestamp(created), last_used_at: used.map(Timestamp) })
}
