//! Stored answers for `Idempotency-Key` replays, on PostgreSQL.

use super::Conn;
use super::writer::Session;
use crate::IDEMPOTENCY_KEEP_MS;
use crate::error::Result;
use crate::views::{RequestKey, StoredResponse};

/// Expired answers deleted per recorded one (as on SQLite).
const PRUNE_PER_INSERT: i64 = 8;

pub fn get(conn: &mut Conn, scope: &str, key: &str, now_ms: i64) -> Result<Option<StoredResponse>> {
    let row = conn.query_opt(
        "SELECT fingerprint, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at >= $3",
        &[&scope, &key, &(now_ms - IDEMPOTENCY_KEEP_MS)],
    )?;
    Ok(row.map(|r| StoredResponse { fingerprint: r.get(0), status: r.get::<_, i64>(1) as u16, body: r.get(2) }))
}

impl Session<'_> {
    /// Keeps the first answer for a key (a later one for the same key is ignored).
    pub fn record_response(&mut self, scope: &str, key: &str, r: &StoredResponse) -> Result<()> {
        let cutoff = self.now.0 - IDEMPOTENCY_KEEP_MS;
        self.conn.execute(
            "DELETE FROM idempotency_keys WHERE (scope, key) IN
             (SELECT scope, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)",
            &[&cutoff, &PRUNE_PER_INSERT],
        )?;
        self.conn.execute(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, status, body, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,
                 body = excluded.body, created_at = excluded.created_at
             WHERE idempotency_keys.created_at < $7 OR idempotency_keys.status = 0",
            &[&scope, &key, &r.fingerprint, &i64::from(r.status), &r.body, &self.now.0, &cutoff],
        )?;
        Ok(())
    }

    /// Records `r` as applied unless a live record of it exists (see the
    /// SQLite backend); says whether it did.
    pub fn claim_request(&mut self, r: &RequestKey) -> Result<bool> {
        let cutoff = self.now.0 - IDEMPOTENCY_KEEP_MS;
        let claimed = self.conn.execute(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, status, body, created_at)
             VALUES ($1, $2, $3, 0, ''::bytea, $4)
             ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = 0,
                 body = excluded.body, created_at = excluded.created_at
             WHERE idempotency_keys.created_at < $5",
            &[&r.scope, &r.key, &r.fingerprint, &self.now.0, &cutoff],
        )?;
        Ok(claimed == 1)
    }
}
