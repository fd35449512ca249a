//! Stored answers for `Idempotency-Key` replays.

use rusqlite::{Connection, OptionalExtension, params};

use super::writer::Session;
use crate::error::Result;
use crate::views::{RequestKey, StoredResponse};

/// How long an answer is kept, in milliseconds: the API promises 24 hours;
/// an hour more covers clock differences between processes.
pub const IDEMPOTENCY_KEEP_MS: i64 = 25 * 3600 * 1000;
/// Expired answers deleted per recorded one: pruning keeps pace with
/// inserts without one request paying for a backlog.
const PRUNE_PER_INSERT: i64 = 8;

pub fn get(conn: &Connection, scope: &str, key: &str, now_ms: i64) -> Result<Option<StoredResponse>> {
    Ok(conn
        .prepare_cached(
            "SELECT fingerprint, status, body FROM idempotency_keys WHERE scope = ?1 AND key = ?2 AND created_at >= ?3",
        )?
        .query_row(params![scope, key, now_ms - IDEMPOTENCY_KEEP_MS], |r| {
            Ok(StoredResponse { fingerprint: r.get(0)?, status: r.get(1)?, body: r.get(2)? })
        })
        .optional()?)
}

impl Session<'_> {
    /// Keeps the first answer for a key (a later one for the same key is ignored).
    pub fn record_response(&mut self, scope: &str, key: &str, r: &StoredResponse) -> Result<()> {
        let cutoff = self.now.0 - IDEMPOTENCY_KEEP_MS;
        self.conn
            .prepare_cached(
                "DELETE FROM idempotency_keys WHERE (scope, key) IN
                 (SELECT scope, key FROM idempotency_keys WHERE created_at < ?1 LIMIT ?2)",
            )?
            .execute(params![cutoff, PRUNE_PER_INSERT])?;
        self.conn
            .prepare_cached(
                "INSERT INTO idempotency_keys (scope, key, fingerprint, status, body, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,
                     body = excluded.body, created_at = excluded.created_at
                 WHERE idempotency_keys.created_at < ?7 OR idempotency_keys.status = 0",
            )?
            .execute(params![scope, key, r.fingerprint, r.status, r.body, self.now.0, cutoff])?;
        Ok(())
    }

    /// Records `r` as applied (`StoredResponse::APPLIED`) unless a live
    /// record of it exists; says whether it did.
    pub fn claim_request(&mut self, r: &RequestKey) -> Result<bool> {
        let cutoff = self.now.0 - IDEMPOTENCY_KEEP_MS;
        let claimed = self
            .conn
            .prepare_cached(
                "INSERT INTO idempotency_keys (scope, key, fingerprint, status, body, created_at)
                 VALUES (?1, ?2, ?3, 0, x'', ?4)
                 ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = 0,
                     body = excluded.body, created_at = excluded.created_at
                 WHERE idempotency_keys.created_at < ?5",
            )?
            .execute(params![r.scope, r.key, r.fingerprint, self.now.0, cutoff])?;
        Ok(claimed == 1)
    }
}
