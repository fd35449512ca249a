//! API tokens, stored as SHA-256 hashes. A token is a long random secret
//! made by stocksync (or given as the bootstrap token), not a password a
//! person chose, so a fast unsalted hash is enough to make a stolen
//! database useless for logging in; the plaintext is shown once and never
//! stored.

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use stocksync_core::auth::{Role, token_name};
use stocksync_core::{FieldError, Rejection, Timestamp};

use super::writer::Session;
use crate::error::{Result, StoreError};
use crate::views::TokenView;

/// Shortest secret accepted, in characters: enough entropy that guessing is hopeless.
pub const TOKEN_SECRET_MIN_CHARS: usize = 20;

/// The stored form of a secret: lowercase hex SHA-256.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn check(name: &str, secret: &str, min_chars: usize) -> Result<String> {
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

impl Session<'_> {
    /// Stores a new token; a taken name or secret is a conflict.
    pub fn create_token(&mut self, name: &str, role: Role, secret: &str) -> Result<()> {
        let name = check(name, secret, TOKEN_SECRET_MIN_CHARS)?;
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )?
            .execute(params![name, role.as_str(), hash_secret(secret), self.now.0])?;
        if inserted == 0 {
            return Err(
                Rejection::Conflict(format!("a token named {name:?} (or with that secret) already exists")).into()
            );
        }
        Ok(())
    }

    /// Makes `name` a token with this role and secret, replacing any token of
    /// that name: how the bootstrap token is kept in step with its setting.
    /// The operator chose this secret, so any non-empty one is accepted (the
    /// server warns when it is short).
    pub fn put_token(&mut self, name: &str, role: Role, secret: &str) -> Result<()> {
        let name = check(name, secret, 1)?;
        let hash = hash_secret(secret);
        self.conn
            .prepare_cached("DELETE FROM api_tokens WHERE token_hash = ?1 AND name != ?2")?
            .execute(params![hash, name])?;
        self.conn
            .prepare_cached(
                "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET role = excluded.role, token_hash = excluded.token_hash",
            )?
            .execute(params![name, role.as_str(), hash, self.now.0])?;
        Ok(())
    }

    /// Deletes a token; it stops working at once.
    pub fn delete_token(&mut self, name: &str) -> Result<()> {
        let n = self.conn.prepare_cached("DELETE FROM api_tokens WHERE name = ?1")?.execute([name])?;
        if n == 0 {
            return Err(StoreError::not_found(format!("no token named {name:?}")));
        }
        Ok(())
    }

    /// Records that a token was used (callers throttle this).
    pub fn touch_token(&mut self, name: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE api_tokens SET last_used_at = ?2 WHERE name = ?1")?
            .execute(params![name, self.now.0])?;
        Ok(())
    }
}

fn view(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, i64, Option<i64>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_view((name, role, created, used): (String, String, i64, Option<i64>)) -> Result<TokenView> {
    let role = Role::parse("role", &role).map_err(|e| StoreError::Internal(format!("token {name}: stored {e}")))?;
    Ok(TokenView { name, role, created_at: Timestamp(created), last_used_at: used.map(Timestamp) })
}

/// The token whose secret this is, if any.
pub fn authenticate(conn: &Connection, secret: &str) -> Result<Option<TokenView>> {
    let row = conn
        .prepare_cached("SELECT name, role, created_at, last_used_at FROM api_tokens WHERE token_hash = ?1")?
        .query_row([hash_secret(secret)], view)
        .optional()?;
    row.map(to_view).transpose()
}

pub fn list(conn: &Connection) -> Result<Vec<TokenView>> {
    let mut q = conn.prepare_cached("SELECT name, role, created_at, last_used_at FROM api_tokens ORDER BY name")?;
    let rows: Vec<_> = q.query_map([], view)?.collect::<Result<_, _>>()?;
    rows.into_iter().map(to_view).collect()
}
