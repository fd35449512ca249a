//! Store operations behind the web UI's sign-in: users and sessions.

use stocksync_core::Timestamp;
use stocksync_core::auth::Role;

use crate::Store;
use crate::error::Result;
use crate::sqlite::users;
use crate::views::UserView;

impl Store {
    /// Adds a user with an already-hashed password (a PHC string).
    pub async fn create_user(&self, name: &str, role: Role, password_hash: &str) -> Result<()> {
        let (name, hash) = (name.to_owned(), password_hash.to_owned());
        self.write(move |s| s.create_user(&name, role, &hash)).await
    }

    /// Replaces a user's password hash and ends their sessions.
    pub async fn set_password(&self, name: &str, password_hash: &str) -> Result<()> {
        let (name, hash) = (name.to_owned(), password_hash.to_owned());
        self.write(move |s| s.set_password(&name, &hash)).await
    }

    /// A user and their password hash, for checking a sign-in.
    pub async fn user_credentials(&self, name: &str) -> Result<Option<(UserView, String)>> {
        let name = name.to_owned();
        self.read(move |c| users::credentials(c, &name)).await
    }

    pub async fn users(&self) -> Result<Vec<UserView>> {
        self.read(users::list).await
    }

    pub async fn create_session(&self, user: &str, secret: &str, expires_at: Timestamp) -> Result<()> {
        let (user, secret) = (user.to_owned(), secret.to_owned());
        self.write(move |s| s.create_session(&user, &secret, expires_at)).await
    }

    /// The signed-in user of a session cookie's secret, if the session is live at `now`.
    pub async fn session_user(&self, secret: &str, now: Timestamp) -> Result<Option<UserView>> {
        let secret = secret.to_owned();
        self.read(move |c| users::session_user(c, &secret, now)).await
    }

    pub async fn delete_session(&self, secret: &str) -> Result<()> {
        let secret = secret.to_owned();
        self.write(move |s| s.delete_session(&secret)).await
    }
}
