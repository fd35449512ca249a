//! Web UI users and their sessions on PostgreSQL (see `crate::sqlite::users`
//! for how they are stored: argon2id PHC strings made by the binary, and
//! SHA-256 hashes of session secrets).

use stocksync_core::auth::{Role, token_name};
use stocksync_core::{Rejection, Timestamp};

use super::Conn;
use super::writer::Session;
use crate::error::{Result, StoreError};
use crate::tokens::hash_secret;
use crate::views::UserView;

impl Session<'_> {
    /// Adds a user; a taken name is a conflict.
    pub fn create_user(&mut self, name: &str, role: Role, password_hash: &str) -> Result<()> {
        let name = token_name(name).map_err(Rejection::from)?;
        let inserted = self.conn.execute(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING",
            &[&name, &role.as_str(), &password_hash, &self.now.0],
        )?;
        if inserted == 0 {
            return Err(Rejection::Conflict(format!("a user named {name:?} already exists")).into());
        }
        Ok(())
    }

    /// Replaces a user's password; every session of that user ends.
    pub fn set_password(&mut self, name: &str, password_hash: &str) -> Result<()> {
        let n = self.conn.execute("UPDATE users SET password_hash = $2 WHERE name = $1", &[&name, &password_hash])?;
        if n == 0 {
            return Err(StoreError::not_found(format!("no user named {name:?}")));
        }
        self.conn.execute("DELETE FROM user_sessions WHERE user_name = $1", &[&name])?;
        Ok(())
    }

    /// Starts a session for `user` whose cookie holds `secret`; drops expired sessions on the way.
    pub fn create_session(&mut self, user: &str, secret: &str, expires_at: Timestamp) -> Result<()> {
        self.conn.execute("DELETE FROM user_sessions WHERE expires_at <= $1", &[&self.now.0])?;
        self.conn.execute(
            "INSERT INTO user_sessions (id_hash, user_name, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            &[&hash_secret(secret), &user, &self.now.0, &expires_at.0],
        )?;
        self.conn.execute("UPDATE users SET last_login_at = $2 WHERE name = $1", &[&user, &self.now.0])?;
        Ok(())
    }

    /// Ends the session whose cookie holds `secret` (nothing if there is none).
    pub fn delete_session(&mut self, secret: &str) -> Result<()> {
        self.conn.execute("DELETE FROM user_sessions WHERE id_hash = $1", &[&hash_secret(secret)])?;
        Ok(())
    }
}

fn to_view(r: &postgres::Row) -> Result<UserView> {
    crate::users::to_view(r.get(0), r.get(1), r.get(2), r.get(3))
}

/// A user and their password hash, for signing in.
pub fn credentials(conn: &mut Conn, name: &str) -> Result<Option<(UserView, String)>> {
    let row = conn.query_opt(
        "SELECT name, role, created_at, last_login_at, password_hash FROM users WHERE name = $1",
        &[&name],
    )?;
    row.map(|r| Ok((to_view(&r)?, r.get(4)))).transpose()
}

/// The user signed in with the session whose cookie holds `secret`, unless it expired.
pub fn session_user(conn: &mut Conn, secret: &str, now: Timestamp) -> Result<Option<UserView>> {
    let row = conn.query_opt(
        "SELECT u.name, u.role, u.created_at, u.last_login_at FROM user_sessions s
         JOIN users u ON u.name = s.user_name WHERE s.id_hash = $1 AND s.expires_at > $2",
        &[&hash_secret(secret), &now.0],
    )?;
    row.as_ref().map(to_view).transpose()
}

pub fn list(conn: &mut Conn) -> Result<Vec<UserView>> {
    conn.query("SELECT name, role, created_at, last_login_at FROM users ORDER BY name", &[])?
        .iter()
        .map(to_view)
        .collect()
}
