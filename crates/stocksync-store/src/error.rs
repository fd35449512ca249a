//! The store's one error type.

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
