//! The push outbox, worker side (PRODUCT.md §4). `take_push_queue` turns
//! queue rows into per-listing desired values in one transaction (the
//! latest value wins; a value the channel already shows is skipped);
//! `due_pushes` lists what a channel should be sent now, zeros first;
//! `record_pushes` stores the channel's answers without ever letting an
//! older value overwrite a newer one.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, params};
use stocksync_core::Timestamp;
use stocksync_core::push::PushOverrides;

use super::read;
use super::writer::Session;
use crate::dirty::Times;
use crate::error::Result;
use crate::input::PushAnswer;
use crate::views::{DuePush, Taken};

impl Session<'_> {
    /// Moves up to `max_rows` queue rows into `push_state`.
    pub fn take_push_queue(&mut self, max_rows: usize) -> Result<Taken> {
        let rows: Vec<(i64, i64, i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT id, marked_at, COALESCE(stale_since, marked_at), items FROM push_queue ORDER BY id LIMIT ?1",
            )?
            .query_map([max_rows as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
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
        self.conn.prepare_cached("DELETE FROM push_queue WHERE id <= ?1")?.execute([last])?;
        Ok(Taken { queue_rows: rows.len(), listings_marked: marked })
    }

    fn mark_item(&mut self, item: i64, times: Times, fcs: &[(i64, String, bool)]) -> Result<usize> {
        let kind: Option<String> = self
            .conn
            .prepare_cached("SELECT kind FROM items WHERE id = ?1")?
            .query_row([item], |r| r.get(0))
            .optional()?;
        let Some(kind) = kind else { return Ok(0) };
        let per_fc = read::per_fc_counts(self.conn, item, &kind, fcs)?;
        type Row = (i64, i64, PushOverrides, Option<i64>, Option<(i64, i64, i64)>);
        let listings: Vec<Row> = self
            .conn
            .prepare_cached(
                "SELECT l.id, l.channel_id, l.percent, l.min_threshold, l.max_visible, l.last_pushed_quantity,
                        p.desired_quantity, p.desired_version, p.acked_version
                 FROM listings l JOIN channels c ON c.id = l.channel_id LEFT JOIN push_state p ON p.listing_id = l.id
                 WHERE l.item_id = ?1 AND c.push_quantities",
            )?
            .query_map([item], |r| {
                let state = match r.get::<_, Option<i64>>(6)? {
                    Some(q) => Some((q, r.get(7)?, r.get(8)?)),
                    None => None,
                };
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    PushOverrides { percent: r.get(2)?, min_threshold: r.get(3)?, max_visible: r.get(4)? },
                    r.get(5)?,
                    state,
                ))
            })?
            .collect::<Result<_, _>>()?;
        let mut marked = 0;
        for (listing, channel, overrides, last_pushed, state) in listings {
            let quantity = read::listing_quantity(self.conn, channel, overrides, fcs, &per_fc)?;
            let waiting = state.filter(|&(_, desired, acked)| desired > acked).map(|(q, _, _)| q);
            if !stocksync_core::push::worth_sending(quantity, waiting, last_pushed) {
                continue;
            }
            let version: i64 = self
                .conn
                .prepare_cached(
                    "UPDATE listings SET push_version = push_version + 1 WHERE id = ?1 RETURNING push_version",
                )?
                .query_row([listing], |r| r.get(0))?;
            self.conn
                .prepare_cached(
                    "INSERT INTO push_state (listing_id, channel_id, desired_quantity, desired_version, desired_since,
                                             stale_since, next_attempt_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?7, ?6)
                     ON CONFLICT (listing_id) DO UPDATE SET
                         desired_quantity = excluded.desired_quantity,
                         desired_version = excluded.desired_version,
                         desired_since = CASE WHEN push_state.desired_version > push_state.acked_version
                                              THEN push_state.desired_since ELSE excluded.desired_since END,
                         stale_since = CASE WHEN push_state.desired_version > push_state.acked_version
                                            THEN min(push_state.stale_since, excluded.stale_since) ELSE excluded.stale_since END,
                         next_attempt_at = CASE WHEN push_state.attempts > 0
                                                THEN push_state.next_attempt_at ELSE excluded.next_attempt_at END",
                )?
                .execute(params![listing, channel, quantity, version, times.marked_at, self.now.0, times.stale_since])?;
            marked += 1;
        }
        Ok(marked)
    }

    /// Stores a channel's answers. A success advances `acked_version` (never
    /// backwards) and the listing's last pushed quantity; a failure counts
    /// an attempt and schedules the next.
    pub fn record_pushes(&mut self, answers: &[PushAnswer]) -> Result<()> {
        for a in answers {
            match &a.outcome {
                Ok(()) => {
                    let advanced = self
                        .conn
                        .prepare_cached(
                            "UPDATE push_state SET acked_version = ?2, attempts = 0, last_error = NULL
                             WHERE listing_id = ?1 AND acked_version < ?2",
                        )?
                        .execute(params![a.listing_id, a.version])?;
                    if advanced == 1 {
                        self.conn
                            .prepare_cached(
                                "UPDATE listings SET last_pushed_quantity = ?2, last_pushed_at = ?3 WHERE id = ?1",
                            )?
                            .execute(params![a.listing_id, a.quantity, self.now.0])?;
                    }
                }
                Err((message, retry_at)) => {
                    self.conn
                        .prepare_cached(
                            "UPDATE push_state SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3
                             WHERE listing_id = ?1 AND desired_version > acked_version",
                        )?
                        .execute(params![a.listing_id, retry_at.0, message])?;
                }
            }
            self.conn
                .prepare_cached(
                    "UPDATE push_state SET claimed_by = NULL, claimed_until = 0
                     WHERE listing_id = ?1 AND claimed_by IS NOT NULL",
                )?
                .execute([a.listing_id])?;
        }
        Ok(())
    }

    /// Claims up to `limit` of `channel`'s due pushes for `holder` (see
    /// `Store::claim_pushes`): rows another holder claimed stay theirs
    /// until their claim runs out.
    pub fn claim_pushes(&mut self, channel: i64, holder: &str, now: Timestamp, limit: usize) -> Result<Vec<DuePush>> {
        let until = now.0.saturating_add(crate::sync::CLAIM_TTL_MS);
        let (oldest, fresh) = crate::sync::claim_split(limit);
        let fresh_since = now.0.saturating_sub(crate::sync::FRESH_MS);
        self.conn
            .prepare_cached(
                "UPDATE push_state SET claimed_by = ?2, claimed_until = ?3
                 WHERE listing_id IN (
                     WITH oldest AS (
                         SELECT listing_id FROM push_state
                         WHERE channel_id = ?1 AND desired_version > acked_version AND next_attempt_at <= ?4
                           AND (claimed_until <= ?4 OR claimed_by = ?2)
                         ORDER BY desired_quantity != 0, stale_since, listing_id LIMIT ?5)
                     SELECT listing_id FROM oldest
                     UNION ALL
                     SELECT listing_id FROM (
                         SELECT listing_id FROM push_state
                         WHERE channel_id = ?1 AND desired_version > acked_version AND next_attempt_at <= ?4
                           AND (claimed_until <= ?4 OR claimed_by = ?2)
                           AND listing_id NOT IN (SELECT listing_id FROM oldest)
                         ORDER BY desired_quantity != 0, stale_since < ?7, stale_since, listing_id LIMIT ?6))",
            )?
            .execute(params![channel, holder, until, now.0, oldest as i64, fresh as i64, fresh_since])?;
        Ok(self
            .conn
            .prepare_cached(
                "SELECT p.listing_id, l.channel_sku, i.sku, l.external_id, p.desired_quantity, p.desired_version,
                        p.desired_since, p.attempts, p.stale_since
                 FROM push_state p JOIN listings l ON l.id = p.listing_id JOIN items i ON i.id = l.item_id
                 WHERE p.channel_id = ?1 AND p.claimed_by = ?2 AND p.claimed_until = ?3
                   AND p.desired_version > p.acked_version
                 ORDER BY p.desired_quantity != 0, p.stale_since, p.listing_id",
            )?
            .query_map(params![channel, holder, until], due_push)?
            .collect::<Result<_, _>>()?)
    }

    /// Takes or renews `holder`'s lease on each of `channels` that is free,
    /// expired or its own already, until `now + ttl_ms`; returns the
    /// channels it holds with their expiry (see `Store::hold_leases`).
    pub fn hold_leases(&mut self, holder: &str, channels: &[i64], ttl_ms: i64) -> Result<Vec<(i64, Timestamp)>> {
        let (now, until) = (self.now.0, self.now.0.saturating_add(ttl_ms));
        let mut held = Vec::with_capacity(channels.len());
        for &channel in channels {
            let taken = self
                .conn
                .prepare_cached(
                    "INSERT INTO channel_leases (channel_id, holder, expires_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (channel_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                     WHERE channel_leases.holder = excluded.holder OR channel_leases.expires_at <= ?4",
                )?
                .execute(params![channel, holder, until, now])?;
            if taken == 1 {
                held.push((channel, Timestamp(until)));
            }
        }
        Ok(held)
    }

    /// Gives up `holder`'s leases (a clean shutdown): another process may
    /// take its channels at once.
    pub fn release_leases(&mut self, holder: &str) -> Result<()> {
        self.conn.prepare_cached("DELETE FROM channel_leases WHERE holder = ?1")?.execute([holder])?;
        Ok(())
    }
}

/// Whether any queue rows wait to be taken.
pub fn queue_waiting(conn: &Connection) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM push_queue)")?.query_row([], |r| r.get(0))?)
}

/// Whether anything of `channel`'s is due now: one index probe, where
/// `due_pushes` would sort every due row.
pub fn any_due(conn: &Connection, channel: i64, now: Timestamp) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM push_state
             WHERE channel_id = ?1 AND desired_version > acked_version AND next_attempt_at <= ?2)",
        )?
        .query_row(params![channel, now.0], |r| r.get(0))?)
}

/// What `channel` should be sent now: zeros first (an oversell risk), then oldest.
pub fn due_pushes(conn: &Connection, channel: i64, now: Timestamp, limit: usize) -> Result<Vec<DuePush>> {
    Ok(conn
        .prepare_cached(
            "SELECT p.listing_id, l.channel_sku, i.sku, l.external_id, p.desired_quantity, p.desired_version,
                    p.desired_since, p.attempts, p.stale_since
             FROM push_state p JOIN listings l ON l.id = p.listing_id JOIN items i ON i.id = l.item_id
             WHERE p.channel_id = ?1 AND p.desired_version > p.acked_version AND p.next_attempt_at <= ?2
             ORDER BY p.desired_quantity != 0, p.stale_since, p.listing_id LIMIT ?3",
        )?
        .query_map(params![channel, now.0, limit as i64], due_push)?
        .collect::<Result<_, _>>()?)
}

fn due_push(r: &rusqlite::Row<'_>) -> rusqlite::Result<DuePush> {
    Ok(DuePush {
        listing_id: r.get(0)?,
        channel_sku: r.get(1)?,
        sku: r.get(2)?,
        external_id: r.get(3)?,
        quantity: r.get(4)?,
        version: r.get(5)?,
        since: Timestamp(r.get(6)?),
        attempts: r.get(7)?,
        stale_since: Timestamp(r.get(8)?),
    })
}

/// The channel's import cursor, if it has one.
pub fn import_cursor(conn: &Connection, channel: stocksync_core::ChannelId) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT import_cursor FROM channels WHERE id = ?1")?
        .query_row([channel.0], |r| r.get::<_, Option<String>>(0))?)
}

/// Every channel with its credentials, for the workers (never for the API).
pub fn channel_configs(conn: &Connection) -> Result<Vec<(crate::views::ChannelView, String)>> {
    let ids: Vec<(i64, String)> = conn
        .prepare_cached("SELECT id, credentials FROM channels ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for (id, credentials) in ids {
        if let Some(view) = super::query::channel(conn, id)? {
            out.push((view, credentials));
        }
    }
    Ok(out)
}

impl Session<'_> {
    /// After an import: the new cursor (if any) and the outcome.
    pub fn set_import_cursor(
        &mut self,
        channel: stocksync_core::ChannelId,
        cursor: Option<&str>,
        error: Option<&str>,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE channels SET import_cursor = COALESCE(?2, import_cursor), last_import_error = ?3,
                        last_import_at = CASE WHEN ?3 IS NULL THEN ?4 ELSE last_import_at END
                 WHERE id = ?1",
            )?
            .execute(params![channel.0, cursor, error, self.now.0])?;
        Ok(())
    }
}

impl Session<'_> {
    pub fn import_listings(
        &mut self,
        channel: stocksync_core::ChannelId,
        listings: &[(String, Option<String>, Option<i64>)],
        actor: &str,
    ) -> Result<crate::sync::ListingReport> {
        let mut report = crate::sync::ListingReport::default();
        let settings = super::query::channel(self.conn, channel.0)?
            .ok_or_else(|| crate::StoreError::not_found(format!("no channel {}", channel.0)))?
            .settings;
        let source_fc = settings.source_fc.filter(|_| settings.import_quantities);
        for (channel_sku, external_id, quantity) in listings {
            let known: Option<(Option<String>, Option<i64>)> = self
                .conn
                .prepare_cached("SELECT external_id, item_id FROM listings WHERE channel_id = ?1 AND channel_sku = ?2")?
                .query_row(params![channel.0, channel_sku], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let item = match known {
                Some((current, item)) => {
                    if external_id.is_some() && current != *external_id {
                        self.conn
                            .prepare_cached(
                                "UPDATE listings SET external_id = ?3 WHERE channel_id = ?1 AND channel_sku = ?2",
                            )?
                            .execute(params![channel.0, channel_sku, external_id])?;
                        report.updated += 1;
                    }
                    item
                }
                None => {
                    let new = crate::NewListing {
                        channel_sku: channel_sku.clone(),
                        external_id: external_id.clone(),
                        ..Default::default()
                    };
                    // A channel SKU stocksync cannot store (too long, control
                    // characters) is the channel's problem; skip it, keep the rest.
                    match self.create_listing(channel, &new, actor) {
                        Ok(item) => {
                            report.created += 1;
                            // What the channel shows now: a push of the same value is skipped.
                            if let Some(q) = quantity {
                                self.conn
                                    .prepare_cached(
                                        "UPDATE listings SET last_pushed_quantity = ?3
                                         WHERE channel_id = ?1 AND channel_sku = ?2",
                                    )?
                                    .execute(params![channel.0, channel_sku, q])?;
                            }
                            if item.is_none() {
                                report.unmapped += 1;
                            }
                            item.map(|i| i.0)
                        }
                        Err(crate::StoreError::Rejected(r)) => {
                            tracing::warn!(channel.id = channel.0, listing = %channel_sku, reason = %r, "listing not imported");
                            None
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            if let (Some(fc), Some(item), Some(q)) = (&source_fc, item, quantity) {
                let sku: Option<(String, String)> = self
                    .conn
                    .prepare_cached("SELECT sku, kind FROM items WHERE id = ?1")?
                    .query_row([item], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if let Some((sku, _)) = sku.filter(|(_, kind)| kind == "stock") {
                    let cx = stocksync_core::workflow::Ctx { at: self.now, actor };
                    let reference = format!("channel:{}", channel.0);
                    stocksync_core::workflow::set_stock(
                        self,
                        &sku,
                        fc.as_str(),
                        stocksync_core::workflow::StockTarget::Available((*q).max(0)),
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
