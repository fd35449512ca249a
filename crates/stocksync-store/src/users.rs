//! Store operations behind the web UI's sign-in: users and sessions.

use stocksync_core::Timestamp;
use stocksync_core::auth::Role;

use crate::error::{Result, StoreError};
use crate::views::UserView;
use crate::{Isolation, Store};

impl Store {
    /// Adds a user with an already-hashed password (a PHC string).
    pub async fn create_user(&self, name: &str, role: Role, password_hash: &str) -> Result<()> {
        let (name, hash) = (name.to_owned(), password_hash.to_owned());
        on_writer!(self, Isolation::Savepoint, |s| s.create_user(&name, role, &hash))
    }

    /// Replaces a user's password hash and ends their sessions.
    pub async fn set_password(&self, name: &str, password_hash: &str) -> Result<()> {
        let (name, hash) = (name.to_owned(), password_hash.to_owned());
        on_writer!(self, Isolation::Savepoint, |s| s.set_password(&name, &hash))
    }

    /// A user and their password hash, for checking a sign-in.
    pub async fn user_credentials(&self, name: &str) -> Result<Option<(UserView, String)>> {
        let name = name.to_owned();
        on_reader!(self, |c, db| db::users::credentials(c, &name))
    }

    pub async fn users(&self) -> Result<Vec<UserView>> {
        on_reader!(self, |c, db| db::users::list(c))
    }

    pub async fn create_session(&self, user: &str, secret: &str, expires_at: Timestamp) -> Result<()> {
        let (user, secret) = (user.to_owned(), secret.to_owned());
        on_writer!(self, Isolation::Savepoint, |s| s.create_session(&user, &secret, expires_at))
    }

    /// The signed-in user of a session cookie's secret, if the session is live at `now`.
    pub async fn session_user(&self, secret: &str, now: Timestamp) -> Result<Option<UserView>> {
        let secret = secret.to_owned();
        on_reader!(self, |c, db| db::users::session_user(c, &secret, now))
    }

    pub async fn delete_session(&self, secret: &str) -> Result<()> {
        let secret = secret.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| s.delete_session(&secret))
    }
}

/// A stored user row as a view; both backends store roles as text.
pub(crate) fn to_view(name: String, role: &str, created: i64, login: Option<i64>) -> Result<UserView> {
    let role = Role::parse("role", role).map_err(|e| StoreError::Internal(format!("user {name}: stored {e}")))?;
    Ok(UserView { name, role, created_at: Timestamp(created), last_login_at: login.map(Timestamp) })
}
