//! The push outbox, worker side, on PostgreSQL (the same protocol as
//! `crate::sqlite::push`), plus import cursors and listing imports.

use std::collections::BTreeMap;

use stocksync_core::push::PushOverrides;
use stocksync_core::workflow::{self, Ctx, StockTarget};
use stocksync_core::{ChannelId, Timestamp};

use super::writer::Session;
use super::{Conn, read};
use crate::dirty::Times;
use crate::error::{Result, StoreError};
use crate::input::{NewListing, PushAnswer};
use crate::sync::ListingReport;
use crate::views::{ChannelView, DuePush, Taken};

impl Session<'_> {
    /// Moves up to `max_rows` queue rows into `push_state`.
    pub fn take_push_queue(&mut self, max_rows: usize) -> Result<Taken> {
        self.flush()?;
        let rows: Vec<(i64, i64, i64, String)> = self
            .conn
            .query(
                "SELECT id, marked_at, COALESCE(stale_since, marked_at), items FROM push_queue ORDER BY id LIMIT $1",
                &[&(max_rows as i64)],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        let Some(last) = rows.last().map(|r| r.0) else { return Ok(Taken::default()) };
        // Each item once, with when its oldest change was marked and went stale.
        let mut items: BTreeMap<i64, Times> = BTreeMap::new();
        for &(_, marked_at, stale_since, ref list) in &rows {
            let times = Times { marked_at, stale_since };
            for id in list.split(',').filter_map(|s| s.parse::<i64>().ok()) {
                items.entry(id).and_modify(|t| *t = t.earliest(times)).or_insert(times);
            }
        }
        let fcs = read::all_fcs(self.conn)?;
        let mut marked = 0;
        for (item, times) in items {
            marked += self.mark_item(item, times, &fcs)?;
        }
        self.conn.execute("DELETE FROM push_queue WHERE id <= $1", &[&last])?;
        Ok(Taken { queue_rows: rows.len(), listings_marked: marked })
    }

    fn mark_item(&mut self, item: i64, times: Times, fcs: &[(i64, String, bool)]) -> Result<usize> {
        let Some(kind) = self.conn.query_opt("SELECT kind FROM items WHERE id = $1", &[&item])? else { return Ok(0) };
        let kind: String = kind.get(0);
        let per_fc = read::per_fc_counts(self.conn, item, &kind, fcs)?;
        type Row = (i64, i64, PushOverrides, Option<i64>, Option<(i64, i64, i64)>);
        let listings: Vec<Row> = self
            .conn
            .query(
                "SELECT l.id, l.channel_id, l.percent, l.min_threshold, l.max_visible, l.last_pushed_quantity,
                        p.desired_quantity, p.desired_version, p.acked_version
                 FROM listings l JOIN channels c ON c.id = l.channel_id LEFT JOIN push_state p ON p.listing_id = l.id
                 WHERE l.item_id = $1 AND c.push_quantities",
                &[&item],
            )?
            .iter()
            .map(|r| {
                let state = r.get::<_, Option<i64>>(6).map(|q| (q, r.get(7), r.get(8)));
                (r.get(0), r.get(1), read::overrides(r, 2), r.get(5), state)
            })
            .collect();
        let mut marked = 0;
        for (listing, channel, overrides, last_pushed, state) in listings {
            let quantity = read::listing_quantity(self.conn, channel, overrides, fcs, &per_fc)?;
            let waiting = state.filter(|&(_, desired, acked)| desired > acked).map(|(q, _, _)| q);
            if !stocksync_core::push::worth_sending(quantity, waiting, last_pushed) {
                continue;
            }
            let version: i64 = self
                .conn
                .query_one(
                    "UPDATE listings SET push_version = push_version + 1 WHERE id = $1 RETURNING push_version",
                    &[&listing],
                )?
                .get(0);
            self.conn.execute(
                "INSERT INTO push_state (listing_id, channel_id, desired_quantity, desired_version, desired_since,
                                         stale_since, next_attempt_at)
                 VALUES ($1, $2, $3, $4, $5, $7, $6)
                 ON CONFLICT (listing_id) DO UPDATE SET
                     desired_quantity = excluded.desired_quantity,
                     desired_version = excluded.desired_version,
                     desired_since = CASE WHEN push_state.desired_version > push_state.acked_version
                                          THEN push_state.desired_since ELSE excluded.desired_since END,
                     stale_since = CASE WHEN push_state.desired_version > push_state.acked_version
                                        THEN LEAST(push_state.stale_since, excluded.stale_since) ELSE excluded.stale_since END,
                     next_attempt_at = CASE WHEN push_state.attempts > 0
                                            THEN push_state.next_attempt_at ELSE excluded.next_attempt_at END",
                &[&listing, &channel, &quantity, &version, &times.marked_at, &self.now.0, &times.stale_since],
            )?;
            marked += 1;
        }
        Ok(marked)
    }

    /// Stores a channel's answers (see the SQLite backend).
    pub fn record_pushes(&mut self, answers: &[PushAnswer]) -> Result<()> {
        for a in answers {
            match &a.outcome {
                Ok(()) => {
                    let advanced = self.conn.execute(
                        "UPDATE push_state SET acked_version = $2, attempts = 0, last_error = NULL
                         WHERE listing_id = $1 AND acked_version < $2",
                        &[&a.listing_id, &a.version],
                    )?;
                    if advanced == 1 {
                        self.conn.execute(
                            "UPDATE listings SET last_pushed_quantity = $2, last_pushed_at = $3 WHERE id = $1",
                            &[&a.listing_id, &a.quantity, &self.now.0],
                        )?;
                    }
                }
                Err((message, retry_at)) => {
                    self.conn.execute(
                        "UPDATE push_state SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3
                         WHERE listing_id = $1 AND desired_version > acked_version",
                        &[&a.listing_id, &retry_at.0, message],
                    )?;
                }
            }
        }
        let answered: Vec<i64> = answers.iter().map(|a| a.listing_id).collect();
        self.conn.execute(
            "UPDATE push_state SET claimed_by = NULL, claimed_until = 0
             WHERE listing_id = ANY($1) AND claimed_by IS NOT NULL",
            &[&answered],
        )?;
        Ok(())
    }

    /// Claims up to `limit` of `channel`'s due pushes for `holder` (see
    /// `Store::claim_pushes`); rows locked or claimed by another holder are
    /// skipped.
    pub fn claim_pushes(&mut self, channel: i64, holder: &str, now: Timestamp, limit: usize) -> Result<Vec<DuePush>> {
        self.flush()?;
        let until = now.0.saturating_add(crate::sync::CLAIM_TTL_MS);
        let (oldest, fresh) = crate::sync::claim_split(limit);
        let fresh_since = now.0.saturating_sub(crate::sync::FRESH_MS);
        let rows = self.conn.query(
            "WITH oldest AS (
                 SELECT listing_id FROM push_state
                 WHERE channel_id = $1 AND desired_version > acked_version AND next_attempt_at <= $4
                   AND (claimed_until <= $4 OR claimed_by = $2)
                 ORDER BY desired_quantity != 0, stale_since, listing_id LIMIT $5
                 FOR UPDATE SKIP LOCKED),
             fresh AS (
                 SELECT listing_id FROM push_state
                 WHERE channel_id = $1 AND desired_version > acked_version AND next_attempt_at <= $4
                   AND (claimed_until <= $4 OR claimed_by = $2)
                   AND listing_id NOT IN (SELECT listing_id FROM oldest)
                 ORDER BY desired_quantity != 0, stale_since < $7, stale_since, listing_id LIMIT $6
                 FOR UPDATE SKIP LOCKED),
             claimed AS (
                 UPDATE push_state SET claimed_by = $2, claimed_until = $3
                 WHERE listing_id IN (SELECT listing_id FROM oldest UNION ALL SELECT listing_id FROM fresh)
                 RETURNING listing_id, desired_quantity, desired_version, desired_since, attempts, stale_since)
             SELECT c.listing_id, l.channel_sku, i.sku, l.external_id, c.desired_quantity, c.desired_version,
                    c.desired_since, c.attempts, c.stale_since
             FROM claimed c JOIN listings l ON l.id = c.listing_id JOIN items i ON i.id = l.item_id
             ORDER BY c.desired_quantity != 0, c.stale_since, c.listing_id",
            &[&channel, &holder, &until, &now.0, &(oldest as i64), &(fresh as i64), &fresh_since],
        )?;
        Ok(rows.iter().map(due_push).collect())
    }

    /// Takes or renews `holder`'s channel leases (see the SQLite backend).
    pub fn hold_leases(&mut self, holder: &str, channels: &[i64], ttl_ms: i64) -> Result<Vec<(i64, Timestamp)>> {
        let (now, until) = (self.now.0, self.now.0.saturating_add(ttl_ms));
        let rows = self.conn.query(
            "INSERT INTO channel_leases (channel_id, holder, expires_at) SELECT unnest($1::bigint[]), $2, $3
             ON CONFLICT (channel_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE channel_leases.holder = excluded.holder OR channel_leases.expires_at <= $4
             RETURNING channel_id",
            &[&channels, &holder, &until, &now],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), Timestamp(until))).collect())
    }

    /// Gives up `holder`'s leases (see the SQLite backend).
    pub fn release_leases(&mut self, holder: &str) -> Result<()> {
        self.conn.execute("DELETE FROM channel_leases WHERE holder = $1", &[&holder])?;
        Ok(())
    }

    /// After an import: the new cursor (if any) and the outcome.
    pub fn set_import_cursor(&mut self, channel: ChannelId, cursor: Option<&str>, error: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE channels SET import_cursor = COALESCE($2, import_cursor), last_import_error = $3,
                    last_import_at = CASE WHEN $3::text IS NULL THEN $4 ELSE last_import_at END
             WHERE id = $1",
            &[&channel.0, &cursor, &error, &self.now.0],
        )?;
        Ok(())
    }

    /// Records a channel's listings (see `Store::import_listings`).
    pub fn import_listings(
        &mut self,
        channel: ChannelId,
        listings: &[(String, Option<String>, Option<i64>)],
        actor: &str,
    ) -> Result<ListingReport> {
        let mut report = ListingReport::default();
        let settings = super::query::channel(self.conn, channel.0)?
            .ok_or_else(|| StoreError::not_found(format!("no channel {}", channel.0)))?
            .settings;
        let source_fc = settings.source_fc.filter(|_| settings.import_quantities);
        for (channel_sku, external_id, quantity) in listings {
            let known = self.conn.query_opt(
                "SELECT external_id, item_id FROM listings WHERE channel_id = $1 AND channel_sku = $2",
                &[&channel.0, channel_sku],
            )?;
            let item: Option<i64> = match known.map(|r| (r.get::<_, Option<String>>(0), r.get::<_, Option<i64>>(1))) {
                Some((current, item)) => {
                    if external_id.is_some() && current != *external_id {
                        self.conn.execute(
                            "UPDATE listings SET external_id = $3 WHERE channel_id = $1 AND channel_sku = $2",
                            &[&channel.0, channel_sku, external_id],
                        )?;
                        report.updated += 1;
                    }
                    item
                }
                None => {
                    let new = NewListing {
                        channel_sku: channel_sku.clone(),
                        external_id: external_id.clone(),
                        ..Default::default()
                    };
                    // A channel SKU stocksync cannot store is the channel's problem; skip it.
                    match self.create_listing(channel, &new, actor) {
                        Ok(item) => {
                            report.created += 1;
                            // What the channel shows now: a push of the same value is skipped.
                            if let Some(q) = quantity {
                                self.conn.execute(
                                    "UPDATE listings SET last_pushed_quantity = $3
                                     WHERE channel_id = $1 AND channel_sku = $2",
                                    &[&channel.0, channel_sku, q],
                                )?;
                            }
                            if item.is_none() {
                                report.unmapped += 1;
                            }
                            item.map(|i| i.0)
                        }
                        Err(StoreError::Rejected(r)) => {
                            tracing::warn!(channel.id = channel.0, listing = %channel_sku, reason = %r, "listing not imported");
                            None
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            if let (Some(fc), Some(item), Some(q)) = (&source_fc, item, quantity) {
                let row = self.conn.query_opt("SELECT sku, kind FROM items WHERE id = $1", &[&item])?;
                if let Some(sku) = row.filter(|r| r.get::<_, &str>(1) == "stock").map(|r| r.get::<_, String>(0)) {
                    let cx = Ctx { at: self.now, actor };
                    let reference = format!("channel:{}", channel.0);
                    workflow::set_stock(
                        self,
                        &sku,
                        fc.as_str(),
                        StockTarget::Available((*q).max(0)),
                        Some("imported from channel"),
                        &reference,
                        &cx,
                    )?;
                    report.quantities += 1;
                }
            }
        }
        Ok(report)
    }
}

/// Whether any queue rows wait to be taken.
pub fn queue_waiting(conn: &mut Conn) -> Result<bool> {
    Ok(conn.query_one("SELECT EXISTS (SELECT 1 FROM push_queue)", &[])?.get(0))
}

/// What `channel` should be sent now: zeros first (an oversell risk), then oldest.
/// Whether anything of `channel`'s is due now (see the SQLite backend).
pub fn any_due(conn: &mut Conn, channel: i64, now: Timestamp) -> Result<bool> {
    let row = conn.query_one(
        "SELECT EXISTS (SELECT 1 FROM push_state
         WHERE channel_id = $1 AND desired_version > acked_version AND next_attempt_at <= $2)",
        &[&channel, &now.0],
    )?;
    Ok(row.get(0))
}

pub fn due_pushes(conn: &mut Conn, channel: i64, now: Timestamp, limit: usize) -> Result<Vec<DuePush>> {
    let rows = conn.query(
        "SELECT p.listing_id, l.channel_sku, i.sku, l.external_id, p.desired_quantity, p.desired_version,
                p.desired_since, p.attempts, p.stale_since
         FROM push_state p JOIN listings l ON l.id = p.listing_id JOIN items i ON i.id = l.item_id
         WHERE p.channel_id = $1 AND p.desired_version > p.acked_version AND p.next_attempt_at <= $2
         ORDER BY p.desired_quantity != 0, p.stale_since, p.listing_id LIMIT $3",
        &[&channel, &now.0, &(limit as i64)],
    )?;
    Ok(rows.iter().map(due_push).collect())
}

fn due_push(r: &postgres::Row) -> DuePush {
    DuePush {
        listing_id: r.get(0),
        channel_sku: r.get(1),
        sku: r.get(2),
        external_id: r.get(3),
        quantity: r.get(4),
        version: r.get(5),
        since: Timestamp(r.get(6)),
        attempts: r.get(7),
        stale_since: Timestamp(r.get(8)),
    }
}

/// Every channel with its credentials, for the workers (never for the API).
pub fn channel_configs(conn: &mut Conn) -> Result<Vec<(ChannelView, String)>> {
    let ids: Vec<(i64, String)> = conn
        .query("SELECT id, credentials FROM channels ORDER BY id", &[])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut out = Vec::with_capacity(ids.len());
    for (id, credentials) in ids {
        if let Some(view) = super::query::channel(conn, id)? {
            out.push((view, credentials));
        }
    }
    Ok(out)
}

/// The channel's import cursor, if it has one.
pub fn import_cursor(conn: &mut Conn, channel: ChannelId) -> Result<Option<String>> {
    Ok(conn.query_one("SELECT import_cursor FROM channels WHERE id = $1", &[&channel.0])?.get(0))
}
