//! `Books` over SQLite, for the writer's open transaction.
//!
//! Levels, channel rules and resolved SKUs are cached in `WriterState`;
//! level writes go through to the database and refresh the cache from
//! `RETURNING`, so the database's CHECK constraints stay the last word.

use rusqlite::{Connection, OptionalExtension, params};
use stocksync_core::allocation::{FcRef, Part};
use stocksync_core::books::{Books, ChannelRules, Level, Movement, QueuePos, Resolved};
use stocksync_core::order::Order;
use stocksync_core::{ChannelId, FcCode, FcId, ItemId, LineKey, OrderId, Rejection, Sku, Timestamp};

use super::writer::{Session, WriterState};
use crate::error::{Result, StoreError};
use crate::lines::{self, OrderRow};

/// Bundles that list `item` as a component. The whole component → bundles
/// map is loaded once per cache epoch: bundle tables are small, and a query
/// per changed item would dominate bulk ingest.
pub(crate) fn bundles_containing(conn: &Connection, st: &mut WriterState, item: ItemId) -> Result<Vec<ItemId>> {
    if !st.bundles_loaded {
        st.bundles_of.clear();
        let mut q = conn.prepare_cached("SELECT component_id, bundle_id FROM bundle_components")?;
        for row in q.query_map([], |r| Ok((ItemId(r.get(0)?), ItemId(r.get(1)?))))? {
            let (component, bundle) = row?;
            let bundles = st.bundles_of.entry(component).or_default();
            if !bundles.contains(&bundle) {
                bundles.push(bundle);
            }
        }
        st.bundles_loaded = true;
    }
    Ok(st.bundles_of.get(&item).cloned().unwrap_or_default())
}

impl Session<'_> {
    pub(crate) fn sku_of(&mut self, item: ItemId) -> Result<Sku> {
        if let Some(s) = self.st.skus.get(&item) {
            return Ok(s.clone());
        }
        let raw: String =
            self.conn.prepare_cached("SELECT sku FROM items WHERE id = ?1")?.query_row([item.0], |r| r.get(0))?;
        let sku = Sku::parse(&raw).map_err(|e| StoreError::Internal(format!("stored SKU {raw:?} is invalid: {e}")))?;
        self.st.skus.insert(item, sku.clone());
        Ok(sku)
    }

    fn parts_of(&mut self, item: ItemId) -> Result<Vec<Part>> {
        let kind: String =
            self.conn.prepare_cached("SELECT kind FROM items WHERE id = ?1")?.query_row([item.0], |r| r.get(0))?;
        if kind == "stock" {
            return Ok(vec![Part { item, sku: self.sku_of(item)?, per_unit: 1 }]);
        }
        let comps: Vec<(i64, u32)> = self
            .conn
            .prepare_cached(
                "SELECT component_id, quantity FROM bundle_components WHERE bundle_id = ?1 ORDER BY position",
            )?
            .query_map([item.0], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        comps
            .into_iter()
            .map(|(c, q)| Ok(Part { item: ItemId(c), sku: self.sku_of(ItemId(c))?, per_unit: q }))
            .collect()
    }

    /// The item a channel SKU names, with its SKU and kind, and whether a
    /// listing named it (rather than the SKU or an alias). Point lookups
    /// only: SQLite re-prepares a join like this one on every execution.
    pub(crate) fn lookup_item(
        &mut self,
        channel: ChannelId,
        channel_sku: &str,
    ) -> Result<Option<(ItemId, String, String, bool)>> {
        let listed: Option<Option<i64>> = self
            .conn
            .prepare_cached("SELECT item_id FROM listings WHERE channel_id = ?1 AND channel_sku = ?2")?
            .query_row(params![channel.0, channel_sku], |r| r.get(0))
            .optional()?;
        let row = |r: &rusqlite::Row<'_>| Ok((ItemId(r.get(0)?), r.get(1)?, r.get(2)?));
        if let Some(Some(item)) = listed {
            let (id, sku, kind) =
                self.conn.prepare_cached("SELECT id, sku, kind FROM items WHERE id = ?1")?.query_row([item], row)?;
            return Ok(Some((id, sku, kind, true)));
        }
        let by_sku: Option<(ItemId, String, String)> = self
            .conn
            .prepare_cached("SELECT id, sku, kind FROM items WHERE sku = ?1")?
            .query_row([channel_sku], row)
            .optional()?;
        let named = match by_sku {
            Some(found) => Some(found),
            None => {
                let alias: Option<i64> = self
                    .conn
                    .prepare_cached("SELECT item_id FROM aliases WHERE alias = ?1")?
                    .query_row([channel_sku], |r| r.get(0))
                    .optional()?;
                match alias {
                    Some(item) => Some(
                        self.conn
                            .prepare_cached("SELECT id, sku, kind FROM items WHERE id = ?1")?
                            .query_row([item], row)?,
                    ),
                    None => None,
                }
            }
        };
        Ok(named.map(|(id, sku, kind)| (id, sku, kind, false)))
    }

    /// Rewrites the order's side indexes: its backordered lines (queued by
    /// item, oldest first) and its unmapped lines (by channel SKU).
    fn save_side_indexes(&mut self, o: &Order) -> Result<()> {
        if !o.is_new {
            self.conn.prepare_cached("DELETE FROM backorders WHERE order_id = ?1")?.execute([o.id.0])?;
            self.conn.prepare_cached("DELETE FROM unmapped_lines WHERE order_id = ?1")?.execute([o.id.0])?;
        }
        if o.status.is_terminal() {
            return Ok(());
        }
        for (pos, line) in o.lines.iter().enumerate().filter(|(_, l)| !l.removed) {
            if !line.is_mapped() {
                self.conn
                    .prepare_cached("INSERT OR IGNORE INTO unmapped_lines (channel_sku, order_id) VALUES (?1, ?2)")?
                    .execute(params![line.channel_sku, o.id.0])?;
            } else if line.backordered > 0 {
                let mut q = self.conn.prepare_cached(
                    "INSERT OR IGNORE INTO backorders (item_id, placed_at, order_id, position) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for p in &line.parts {
                    q.execute(params![p.item.0, o.placed_at.0, o.id.0, pos as i64])?;
                }
            }
        }
        Ok(())
    }

    fn read_order(&mut self, id: Option<OrderId>, key: Option<(ChannelId, &str)>) -> Result<Option<Order>> {
        let map = |r: &rusqlite::Row<'_>| -> rusqlite::Result<OrderRow> {
            Ok(OrderRow {
                id: r.get(0)?,
                channel: r.get(1)?,
                external_id: r.get(2)?,
                status: r.get(3)?,
                source_status: r.get(4)?,
                placed_at: r.get(5)?,
                source_updated_at: r.get(6)?,
                imported_at: r.get(7)?,
                updated_at: r.get(8)?,
                lines: r.get(9)?,
            })
        };
        const COLS: &str = "id, channel_id, external_id, status, source_status, placed_at, source_updated_at, \
                            imported_at, updated_at, lines";
        let row = match (id, key) {
            (Some(id), _) => self
                .conn
                .prepare_cached(&format!("SELECT {COLS} FROM orders WHERE id = ?1"))?
                .query_row([id.0], map)
                .optional()?,
            (None, Some((channel, external))) => self
                .conn
                .prepare_cached(&format!("SELECT {COLS} FROM orders WHERE channel_id = ?1 AND external_id = ?2"))?
                .query_row(params![channel.0, external], map)
                .optional()?,
            (None, None) => None,
        };
        match row {
            Some(row) => Ok(Some(row.decode(|item| self.sku_of(item))?)),
            None => Ok(None),
        }
    }

    fn order_ids(&mut self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<OrderId>> {
        let mut q = self.conn.prepare_cached(sql)?;
        let ids = q.query_map(params, |r| Ok(OrderId(r.get(0)?)))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }
}

impl Books for Session<'_> {
    type Error = StoreError;

    fn channel_rules(&mut self, channel: ChannelId) -> Result<ChannelRules> {
        if let Some(r) = self.st.rules.get(&channel) {
            return Ok(r.clone());
        }
        let row: Option<(String, bool, bool, bool)> = self
            .conn
            .prepare_cached("SELECT name, import_orders, allow_split, all_fcs FROM channels WHERE id = ?1")?
            .query_row([channel.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let (name, import_orders, allow_split, all_fcs) =
            row.ok_or_else(|| Rejection::NotFound(format!("no channel {}", channel.0)))?;
        let mut q = self.conn.prepare_cached(
            "SELECT f.id, f.code FROM fulfillment_centers f
             WHERE f.active = 1 AND (?2 OR EXISTS (SELECT 1 FROM channel_fcs c WHERE c.channel_id = ?1 AND c.fc_id = f.id))
             ORDER BY f.priority, f.code",
        )?;
        let fcs = q
            .query_map(params![channel.0, all_fcs], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
            .map(|row| {
                let (id, code) = row?;
                let code = FcCode::parse(&code).map_err(|e| StoreError::Internal(format!("stored FC code: {e}")))?;
                Ok(FcRef { id: FcId(id), code })
            })
            .collect::<Result<Vec<_>>>()?;
        let rules = ChannelRules { name, import_orders, allow_split, fcs };
        self.st.rules.insert(channel, rules.clone());
        Ok(rules)
    }

    fn resolve(&mut self, channel: ChannelId, channel_sku: &str) -> Result<Option<Resolved>> {
        let key = (channel, channel_sku.to_owned());
        if let Some(r) = self.st.resolved.get(&key) {
            return Ok(Some(r.clone()));
        }
        let Some((item, sku, kind, via_listing)) = self.lookup_item(channel, channel_sku)? else { return Ok(None) };
        if !via_listing {
            self.conn
                .prepare_cached(
                    "INSERT INTO listings (channel_id, channel_sku, item_id, created_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (channel_id, channel_sku) DO UPDATE SET item_id = excluded.item_id",
                )?
                .execute(params![channel.0, channel_sku, item.0, self.now.0])?;
            self.st.dirty_items.insert(item);
        }
        let sku = Sku::parse(&sku).map_err(|e| StoreError::Internal(format!("stored SKU {sku:?} is invalid: {e}")))?;
        self.st.skus.insert(item, sku.clone());
        let parts =
            if kind == "stock" { vec![Part { item, sku: sku.clone(), per_unit: 1 }] } else { self.parts_of(item)? };
        let resolved = Resolved { item, sku, parts };
        self.st.resolved.insert(key, resolved.clone());
        Ok(Some(resolved))
    }

    fn stock_item(&mut self, sku: &str) -> Result<ItemId> {
        let row: Option<(i64, String)> = self
            .conn
            .prepare_cached("SELECT id, kind FROM items WHERE sku = ?1")?
            .query_row([sku], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            None => Err(Rejection::NotFound(format!("no item {sku}")).into()),
            Some((_, kind)) if kind == "bundle" => {
                Err(Rejection::invalid("sku", format!("{sku} is a bundle: it holds no stock of its own")).into())
            }
            Some((id, _)) => Ok(ItemId(id)),
        }
    }

    fn fc(&mut self, code: &str) -> Result<FcRef> {
        if let Some(f) = self.st.fcs.get(code) {
            return Ok(f.clone());
        }
        let id: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM fulfillment_centers WHERE code = ?1")?
            .query_row([code], |r| r.get(0))
            .optional()?;
        let id = id.ok_or_else(|| Rejection::NotFound(format!("no fulfillment center {code}")))?;
        let code = FcCode::parse(code).map_err(|e| StoreError::Internal(e.to_string()))?;
        let f = FcRef { id: FcId(id), code };
        self.st.fcs.insert(f.code.as_str().to_owned(), f.clone());
        Ok(f)
    }

    fn level(&mut self, item: ItemId, fc: FcId) -> Result<Level> {
        if let Some(l) = self.st.levels.get(&(item, fc)) {
            return Ok(*l);
        }
        // One query fills every FC of the item: allocation reads them all.
        let mut q =
            self.conn.prepare_cached("SELECT fc_id, on_hand, committed FROM stock_levels WHERE item_id = ?1")?;
        let rows =
            q.query_map([item.0], |r| Ok((FcId(r.get(0)?), Level { on_hand: r.get(1)?, committed: r.get(2)? })))?;
        let mut found = Level::default();
        for row in rows {
            let (f, l) = row?;
            self.st.levels.insert((item, f), l);
            if f == fc {
                found = l;
            }
        }
        self.st.levels.insert((item, fc), found);
        Ok(found)
    }

    fn total_available(&mut self, item: ItemId) -> Result<i64> {
        let total: i64 = self
            .conn
            .prepare_cached("SELECT COALESCE(SUM(on_hand - committed), 0) FROM stock_levels WHERE item_id = ?1")?
            .query_row([item.0], |r| r.get(0))?;
        Ok(total)
    }

    fn apply_movement(&mut self, m: &Movement<'_>) -> Result<Level> {
        // UPDATE first: an upsert would check the CHECK constraint against its
        // candidate row, which carries deltas rather than totals.
        let read = |r: &rusqlite::Row<'_>| Ok(Level { on_hand: r.get(0)?, committed: r.get(1)? });
        let updated = self
            .conn
            .prepare_cached(
                "UPDATE stock_levels SET on_hand = on_hand + ?3, committed = committed + ?4
                 WHERE item_id = ?1 AND fc_id = ?2 RETURNING on_hand, committed",
            )?
            .query_row(params![m.item.0, m.fc.0, m.on_hand_delta, m.committed_delta], read)
            .optional()?;
        let after = match updated {
            Some(after) => after,
            None => self
                .conn
                .prepare_cached(
                    "INSERT INTO stock_levels (item_id, fc_id, on_hand, committed) VALUES (?1, ?2, ?3, ?4)
                     RETURNING on_hand, committed",
                )?
                .query_row(params![m.item.0, m.fc.0, m.on_hand_delta, m.committed_delta], read)?,
        };
        self.conn
            .prepare_cached(
                "INSERT INTO movements (at, item_id, fc_id, on_hand_delta, committed_delta, on_hand_after, committed_after, reason, reference, actor)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                m.at.0,
                m.item.0,
                m.fc.0,
                m.on_hand_delta,
                m.committed_delta,
                after.on_hand,
                after.committed,
                m.reason,
                m.reference,
                m.actor
            ])?;
        self.st.levels.insert((m.item, m.fc), after);
        self.st.dirty_items.insert(m.item);
        Ok(after)
    }

    fn new_order_id(&mut self) -> Result<OrderId> {
        let next = match self.st.next_order_id {
            Some(n) => n,
            None => self.conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM orders", [], |r| r.get(0))?,
        };
        self.st.next_order_id = Some(next + 1);
        Ok(OrderId(next))
    }

    fn find_order(&mut self, channel: ChannelId, external_id: &str) -> Result<Option<Order>> {
        self.read_order(None, Some((channel, external_id)))
    }

    fn load_order(&mut self, id: OrderId) -> Result<Option<Order>> {
        self.read_order(Some(id), None)
    }

    fn save_order(&mut self, o: &mut Order) -> Result<()> {
        let trace = o.new_trace.join("\n");
        let (units, backordered) = lines::totals(o);
        let text = lines::encode(&lines::stored(o))?;
        if o.is_new {
            self.conn
                .prepare_cached(
                    "INSERT INTO orders (id, channel_id, external_id, status, source_status, placed_at, source_updated_at,
                                         imported_at, updated_at, lines, units, backordered, trace)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )?
                .execute(params![
                    o.id.0,
                    o.channel.0,
                    o.external_id,
                    o.status.as_str(),
                    o.source_status.as_str(),
                    o.placed_at.0,
                    o.source_updated_at.map(|t| t.0),
                    o.imported_at.0,
                    o.updated_at.0,
                    text,
                    units,
                    backordered,
                    trace
                ])?;
        } else {
            self.conn
                .prepare_cached(
                    "UPDATE orders SET status = ?2, source_status = ?3, source_updated_at = ?4, updated_at = ?5,
                            lines = ?6, units = ?7, backordered = ?8,
                            trace = CASE WHEN ?9 = '' THEN trace WHEN trace = '' THEN ?9 ELSE trace || char(10) || ?9 END
                     WHERE id = ?1",
                )?
                .execute(params![
                    o.id.0,
                    o.status.as_str(),
                    o.source_status.as_str(),
                    o.source_updated_at.map(|t| t.0),
                    o.updated_at.0,
                    text,
                    units,
                    backordered,
                    trace
                ])?;
        }
        if o.is_new || o.lines.iter().any(|l| l.dirty) || o.status.is_terminal() {
            self.save_side_indexes(o)?;
        }
        for (pos, l) in o.lines.iter_mut().enumerate() {
            l.key = Some(LineKey(pos as i64));
            l.dirty = false;
        }
        o.is_new = false;
        o.new_trace.clear();
        Ok(())
    }

    fn next_backordered(&mut self, item: ItemId, after: Option<QueuePos>) -> Result<Option<QueuePos>> {
        let (placed, id) = after.map_or((i64::MIN, i64::MIN), |(t, o)| (t.0, o.0));
        let row = self
            .conn
            .prepare_cached(
                // `+?1` is not style: with `item_id = ?1` next to the range,
                // SQLite marks the plan as depending on the bound values and
                // re-prepares the statement at every execution, even without
                // STAT4 (perf: a third of a 1M-row upload's time). The plan is
                // the same primary-key seek; the row value is the same keyset.
                "SELECT placed_at, order_id FROM backorders
                 WHERE item_id = +?1 AND (placed_at, order_id) > (?2, ?3)
                 ORDER BY placed_at, order_id LIMIT 1",
            )?
            .query_row([item.0, placed, id], |r| Ok((Timestamp(r.get(0)?), OrderId(r.get(1)?))))
            .optional()?;
        Ok(row)
    }

    fn unmapped_orders(&mut self, channel: Option<ChannelId>, channel_sku: &str) -> Result<Vec<OrderId>> {
        self.order_ids(
            "SELECT o.id FROM unmapped_lines u JOIN orders o ON o.id = u.order_id
             WHERE u.channel_sku = ?1 AND o.status NOT IN ('shipped', 'cancelled') AND (?2 IS NULL OR o.channel_id = ?2)
             ORDER BY o.placed_at, o.id",
            params![channel_sku, channel.map(|c| c.0)],
        )
    }

    /// Open orders that allocated `item` at `fc`, found through the ledger
    /// (allocations live inside their orders): the level's indexed
    /// movements plus the unindexed tail. It may include orders that since
    /// released those units; the workflow skips them. A counting correction
    /// is a rare manual act, so reading the level's history is fine.
    fn orders_holding(&mut self, item: ItemId, fc: FcId) -> Result<Vec<OrderId>> {
        self.order_ids(
            "SELECT o.id FROM orders o WHERE o.id IN
               (SELECT CAST(substr(m.reference, 7) AS INTEGER) FROM movements m
                WHERE m.id IN (SELECT movement_id FROM movement_index WHERE item_id = ?1 AND fc_id = ?2
                               UNION ALL
                               SELECT id FROM movements
                               WHERE id > (SELECT indexed_upto FROM movement_index_state) AND item_id = ?1 AND fc_id = ?2)
                  AND m.committed_delta > 0 AND m.reference LIKE 'order:%')
             AND o.status NOT IN ('shipped', 'cancelled')
             ORDER BY o.placed_at DESC, o.id DESC",
            [item.0, fc.0],
        )
    }
}
