//! The store's one error type.

use std::path::PathBuf;

use stocksync_core::Rejection;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The domain refused the request; nothing changed.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The transaction that carried this request failed to commit.
    #[error("the transaction failed to commit: {0}")]
    Commit(String),
    /// The database URL is not one this build understands.
    #[error("unsupported database URL {0:?}: use sqlite://PATH")]
    BadUrl(String),
    /// The database file does not exist and the caller asked not to create
    /// it: a command that only inspects data (`check`) must not mistake a
    /// typo in the path for a new, empty and therefore clean database.
    #[error("no database at {}", .0.display())]
    Missing(PathBuf),
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
