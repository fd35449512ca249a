//! The store's one error type.

use stocksync_core::Rejection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The domain refused the request; nothing changed.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL's own words, with the server's detail when it gave one.
    #[error("database error: {}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    /// The transaction that carried this request failed to commit.
    #[error("the transaction failed to commit: {0}")]
    Commit(String),
    /// The database URL is not one this build understands.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST:PORT/DATABASE")]
    BadUrl(String),
    /// The database file does not exist (or a PostgreSQL database holds no
    /// stocksync schema) and the caller asked not to create it: a command that only inspects data (`check`) must not mistake a
    /// typo in the path for a new, empty and therefore clean database.
    #[error("no database at {0}")]
    Missing(String),
    #[error("the store is shut down")]
    Closed,
    #[error("{0}")]
    Internal(String),
}

impl StoreError {
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::Rejected(Rejection::NotFound(what.into()))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A PostgreSQL error as one line: the server's message and detail (the
/// client's `Display` says only "db error" for server errors).
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {detail}", db.message()),
            None => db.message().to_owned(),
        },
        None => e.to_string(),
    }
}
