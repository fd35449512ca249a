//! API tokens on PostgreSQL (see `crate::tokens` for how they are stored).

use stocksync_core::Rejection;
use stocksync_core::auth::Role;

use super::Conn;
use super::writer::Session;
use crate::error::{Result, StoreError};
use crate::tokens::{TOKEN_SECRET_MIN_CHARS, check, hash_secret, to_view};
use crate::views::TokenView;

impl Session<'_> {
    /// Stores a new token; a taken name or secret is a conflict.
    pub fn create_token(&mut self, name: &str, role: Role, secret: &str) -> Result<()> {
        let name = check(name, secret, TOKEN_SECRET_MIN_CHARS)?;
        let inserted = self.conn.execute(
            "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&name, &role.as_str(), &hash_secret(secret), &self.now.0],
        )?;
        if inserted == 0 {
            return Err(
                Rejection::Conflict(format!("a token named {name:?} (or with that secret) already exists")).into()
            );
        }
        Ok(())
    }

    /// Makes `name` a token with this role and secret, replacing any token of
    /// that name (the bootstrap token).
    pub fn put_token(&mut self, name: &str, role: Role, secret: &str) -> Result<()> {
        let name = check(name, secret, 1)?;
        let hash = hash_secret(secret);
        self.conn.execute("DELETE FROM api_tokens WHERE token_hash = $1 AND name != $2", &[&hash, &name])?;
        self.conn.execute(
            "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, token_hash = excluded.token_hash",
            &[&name, &role.as_str(), &hash, &self.now.0],
        )?;
        Ok(())
    }

    /// Deletes a token; it stops working at once.
    pub fn delete_token(&mut self, name: &str) -> Result<()> {
        if self.conn.execute("DELETE FROM api_tokens WHERE name = $1", &[&name])? == 0 {
            return Err(StoreError::not_found(format!("no token named {name:?}")));
        }
        Ok(())
    }

    /// Records that a token was used (callers throttle this).
    pub fn touch_token(&mut self, name: &str) -> Result<()> {
        self.conn.execute("UPDATE api_tokens SET last_used_at = $2 WHERE name = $1", &[&name, &self.now.0])?;
        Ok(())
    }
}

fn view(r: &postgres::Row) -> (String, String, i64, Option<i64>) {
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

/// The token whose secret this is, if any.
pub fn authenticate(conn: &mut Conn, secret: &str) -> Result<Option<TokenView>> {
    let row = conn.query_opt(
        "SELECT name, role, created_at, last_used_at FROM api_tokens WHERE token_hash = $1",
        &[&hash_secret(secret)],
    )?;
    row.as_ref().map(view).map(to_view).transpose()
}

pub fn list(conn: &mut Conn) -> Result<Vec<TokenView>> {
    let rows = conn.query("SELECT name, role, created_at, last_used_at FROM api_tokens ORDER BY name", &[])?;
    rows.iter().map(view).map(to_view).collect()
}
