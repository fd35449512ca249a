//! API tokens: stored hashed, found by secret, gone when deleted.

use stocksync_core::Rejection;
use stocksync_core::auth::Role;
use stocksync_store::StoreError;

use crate::common::*;

const SECRET: &str = "ss_0123456789abcdefghijklmnop";

on_both!(tokens_are_found_by_secret_and_never_stored_in_clear);
async fn tokens_are_found_by_secret_and_never_stored_in_clear(b: Backend) {
    let db = TestDb::new(b);
    db.store.create_token("ci-bot", Role::Operator, SECRET).await.unwrap();
    let found = db.store.authenticate(SECRET).await.unwrap().expect("the secret authenticates");
    assert_eq!((found.name.as_str(), found.role), ("ci-bot", Role::Operator));
    assert!(db.store.authenticate("ss_wrong-secret-of-enough-length").await.unwrap().is_none());

    let stored = db.rows("SELECT token_hash FROM api_tokens", "SELECT token_hash FROM api_tokens");
    assert_ne!(stored, [SECRET]);
    assert_eq!(stored[0].len(), 64, "a SHA-256 hex digest");
    assert!(
        db.rows(
            "SELECT name || role || token_hash FROM api_tokens",
            "SELECT name || role || token_hash FROM api_tokens"
        )
        .iter()
        .all(|row| !row.contains(SECRET)),
        "the secret is stored"
    );
    if b == Backend::Sqlite {
        // The files themselves, WAL included, never hold the plaintext.
        let wal = db.path().with_extension("db-wal");
        for file in [db.path(), wal] {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "the secret is in {}",
                file.display()
            );
        }
    }

    db.store.touch_token("ci-bot").await.unwrap();
    assert!(db.store.tokens().await.unwrap()[0].last_used_at.is_some());
    db.store.delete_token("ci-bot").await.unwrap();
    assert!(db.store.authenticate(SECRET).await.unwrap().is_none(), "a deleted token stops working at once");
    assert!(matches!(db.store.delete_token("ci-bot").await, Err(StoreError::Rejected(Rejection::NotFound(_)))));
}

on_both!(bad_and_duplicate_tokens_are_refused);
async fn bad_and_duplicate_tokens_are_refused(b: Backend) {
    let db = TestDb::new(b);
    let err = db.store.create_token(" bad name", Role::Admin, "short").await.unwrap_err();
    let StoreError::Rejected(Rejection::Invalid(errors)) = err else { panic!("{err:?}") };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["name", "token"]);
    db.store.create_token("a", Role::Viewer, SECRET).await.unwrap();
    for (name, secret) in [("a", "ss_another-long-enough-secret"), ("b", SECRET)] {
        let err = db.store.create_token(name, Role::Viewer, secret).await.unwrap_err();
        assert!(matches!(err, StoreError::Rejected(Rejection::Conflict(_))), "{name}: {err:?}");
    }
    assert_eq!(db.store.tokens().await.unwrap().len(), 1, "nothing changed");
}

on_both!(the_bootstrap_token_follows_its_setting);
async fn the_bootstrap_token_follows_its_setting(b: Backend) {
    let db = TestDb::new(b);
    db.store.put_token("bootstrap", Role::Admin, SECRET).await.unwrap();
    db.store.put_token("bootstrap", Role::Admin, "ss_the-rotated-bootstrap-secret").await.unwrap();
    assert!(db.store.authenticate(SECRET).await.unwrap().is_none(), "the old secret no longer works");
    let t = db.store.authenticate("ss_the-rotated-bootstrap-secret").await.unwrap().unwrap();
    assert_eq!((t.name.as_str(), t.role), ("bootstrap", Role::Admin));
    assert_eq!(db.store.tokens().await.unwrap().len(), 1);
}
