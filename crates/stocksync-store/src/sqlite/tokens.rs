//! API tokens on SQLite (see `crate::tokens` for how they are stored).

use rusqlite::{Connection, OptionalExtension, params};
use stocksync_core::Rejection;
use stocksync_core::auth::Role;

use super::writer::Session;
use crate::error::{Result, StoreError};
use crate::tokens::{TOKEN_SECRET_MIN_CHARS, check, hash_secret, to_view};
use crate::views::TokenView;

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
