//! Web UI users and their sessions. Passwords arrive already hashed
//! (argon2id, made by the binary: hashing is slow on purpose and does not
//! belong on the writer thread). Session secrets are stored as SHA-256
//! hashes like API tokens: long random values, so a fast hash suffices.

use rusqlite::{Connection, OptionalExtension, params};
use stocksync_core::auth::{Role, token_name};
use stocksync_core::{Rejection, Timestamp};

use super::writer::Session;
use crate::error::{Result, StoreError};
use crate::tokens::hash_secret;
use crate::views::UserView;

impl Session<'_> {
    /// Adds a user; a taken name is a conflict.
    pub fn create_user(&mut self, name: &str, role: Role, password_hash: &str) -> Result<()> {
        let name = token_name(name).map_err(Rejection::from)?;
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO NOTHING",
            )?
            .execute(params![name, role.as_str(), password_hash, self.now.0])?;
        if inserted == 0 {
            return Err(Rejection::Conflict(format!("a user named {name:?} already exists")).into());
        }
        Ok(())
    }

    /// Replaces a user's password; every session of that user ends.
    pub fn set_password(&mut self, name: &str, password_hash: &str) -> Result<()> {
        let n = self
            .conn
            .prepare_cached("UPDATE users SET password_hash = ?2 WHERE name = ?1")?
            .execute(params![name, password_hash])?;
        if n == 0 {
            return Err(StoreError::not_found(format!("no user named {name:?}")));
        }
        self.conn.prepare_cached("DELETE FROM user_sessions WHERE user_name = ?1")?.execute([name])?;
        Ok(())
    }

    /// Starts a session for `user` whose cookie holds `secret`; drops expired sessions on the way.
    pub fn create_session(&mut self, user: &str, secret: &str, expires_at: Timestamp) -> Result<()> {
        self.conn.prepare_cached("DELETE FROM user_sessions WHERE expires_at <= ?1")?.execute([self.now.0])?;
        self.conn
            .prepare_cached(
                "INSERT INTO user_sessions (id_hash, user_name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![hash_secret(secret), user, self.now.0, expires_at.0])?;
        self.conn
            .prepare_cached("UPDATE users SET last_login_at = ?2 WHERE name = ?1")?
            .execute(params![user, self.now.0])?;
        Ok(())
    }

    /// Ends the session whose cookie holds `secret` (nothing if there is none).
    pub fn delete_session(&mut self, secret: &str) -> Result<()> {
        self.conn.prepare_cached("DELETE FROM user_sessions WHERE id_hash = ?1")?.execute([hash_secret(secret)])?;
        Ok(())
    }
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, i64, Option<i64>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_view((name, role, created, login): (String, String, i64, Option<i64>)) -> Result<UserView> {
    crate::users::to_view(name, &role, created, login)
}

/// A user and their password hash, for signing in.
pub fn credentials(conn: &Connection, name: &str) -> Result<Option<(UserView, String)>> {
    let row = conn
        .prepare_cached("SELECT name, role, created_at, last_login_at, password_hash FROM users WHERE name = ?1")?
        .query_row([name], |r| Ok((user_row(r)?, r.get::<_, String>(4)?)))
        .optional()?;
    row.map(|(u, hash)| Ok((to_view(u)?, hash))).transpose()
}

/// The user signed in with the session whose cookie holds `secret`, unless it expired.
pub fn session_user(conn: &Connection, secret: &str, now: Timestamp) -> Result<Option<UserView>> {
    let row = conn
        .prepare_cached(
            "SELECT u.name, u.role, u.created_at, u.last_login_at FROM user_sessions s
             JOIN users u ON u.name = s.user_name WHERE s.id_hash = ?1 AND s.expires_at > ?2",
        )?
        .query_row(params![hash_secret(secret), now.0], user_row)
        .optional()?;
    row.map(to_view).transpose()
}

pub fn list(conn: &Connection) -> Result<Vec<UserView>> {
    let mut q = conn.prepare_cached("SELECT name, role, created_at, last_login_at FROM users ORDER BY name")?;
    let rows: Vec<_> = q.query_map([], user_row)?.collect::<Result<_, _>>()?;
    rows.into_iter().map(to_view).collect()
}
