//! `Books` over PostgreSQL, for the writer's open transaction.
//!
//! As on SQLite, levels, channel rules and resolved SKUs are cached in
//! `WriterState`. Level changes, ledger rows and orders are buffered
//! (`pending`) and flushed set-based; a query that reads what they change
//! flushes first. The database's CHECK constraint on levels stays the last
//! word: a level that would break it is refused here already, with the same
//! rule, so a job learns it at once.

use stocksync_core::allocation::{FcRef, Part};
use stocksync_core::books::{Books, ChannelRules, Level, Movement, QueuePos, Resolved};
use stocksync_core::order::Order;
use stocksync_core::{ChannelId, FcCode, FcId, ItemId, LineKey, OrderId, Rejection, Sku, Timestamp};

use super::Conn;
use super::pending::{CachedLevel, PendingMovement};
use super::writer::{Session, WriterState};
use crate::error::{Result, StoreError};
use crate::lines::OrderRow;

/// Bundles that list `item` as a component; the whole map is loaded once
/// per cache epoch.
pub(crate) fn bundles_containing(conn: &mut Conn, st: &mut WriterState, item: ItemId) -> Result<Vec<ItemId>> {
    if !st.bundles_loaded {
        st.bundles_of.clear();
        for r in conn.query("SELECT component_id, bundle_id FROM bundle_components", &[])? {
            let (component, bundle) = (ItemId(r.get(0)), ItemId(r.get(1)));
            let bundles = st.bundles_of.entry(component).or_default();
            if !bundles.contains(&bundle) {
                bundles.push(bundle);
            }
        }
        st.bundles_loaded = true;
    }
    Ok(st.bundles_of.get(&item).cloned().unwrap_or_default())
}

fn stored_sku(raw: &str) -> Result<Sku> {
    Sku::parse(raw).map_err(|e| StoreError::Internal(format!("stored SKU {raw:?} is invalid: {e}")))
}

const ORDER_COLS: &str = "id, channel_id, external_id, status, source_status, placed_at, source_updated_at, \
                          imported_at, updated_at, lines";

pub(crate) fn order_row(r: &postgres::Row) -> OrderRow {
    OrderRow {
        id: r.get(0),
        channel: r.get(1),
        external_id: r.get(2),
        status: r.get(3),
        source_status: r.get(4),
        placed_at: r.get(5),
        source_updated_at: r.get(6),
        imported_at: r.get(7),
        updated_at: r.get(8),
        lines: r.get(9),
    }
}

impl Session<'_> {
    pub(crate) fn sku_of(&mut self, item: ItemId) -> Result<Sku> {
        if let Some(s) = self.st.skus.get(&item) {
            return Ok(s.clone());
        }
        let raw: String = self.conn.query_one("SELECT sku FROM items WHERE id = $1", &[&item.0])?.get(0);
        let sku = stored_sku(&raw)?;
        self.st.skus.insert(item, sku.clone());
        Ok(sku)
    }

    fn parts_of(&mut self, item: ItemId) -> Result<Vec<Part>> {
        let comps: Vec<(i64, i64)> = self
            .conn
            .query(
                "SELECT component_id, quantity FROM bundle_components WHERE bundle_id = $1 ORDER BY position",
                &[&item.0],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        comps
            .into_iter()
            .map(|(c, q)| Ok(Part { item: ItemId(c), sku: self.sku_of(ItemId(c))?, per_unit: q as u32 }))
            .collect()
    }

    /// The item a channel SKU names, with its SKU and kind, and whether a
    /// listing named it (rather than the SKU or an alias): one query, in
    /// the order of PRODUCT.md §2 (a listing without an item falls through).
    pub(crate) fn lookup_item(
        &mut self,
        channel: ChannelId,
        channel_sku: &str,
    ) -> Result<Option<(ItemId, String, String, bool)>> {
        let row = self.conn.query_opt(
            "SELECT id, sku, kind, via_listing FROM (
                 SELECT 1 AS rank, i.id, i.sku, i.kind, TRUE AS via_listing
                 FROM listings l JOIN items i ON i.id = l.item_id WHERE l.channel_id = $1 AND l.channel_sku = $2
                 UNION ALL
                 SELECT 2, id, sku, kind, FALSE FROM items WHERE sku = $2
                 UNION ALL
                 SELECT 3, i.id, i.sku, i.kind, FALSE FROM aliases a JOIN items i ON i.id = a.item_id WHERE a.alias = $2
             ) named ORDER BY rank LIMIT 1",
            &[&channel.0, &channel_sku],
        )?;
        Ok(row.map(|r| (ItemId(r.get(0)), r.get(1), r.get(2), r.get(3))))
    }

    fn read_order(&mut self, id: Option<OrderId>, key: Option<(ChannelId, &str)>) -> Result<Option<Order>> {
        if let Some(o) = self.st.pending.order(id, key) {
            return Ok(Some(o));
        }
        if let (None, Some((channel, external))) = (id, key)
            && let Some(known) = self.st.known.get(&(channel, external.to_owned()))
        {
            return match known.clone() {
                Some(row) => Ok(Some(row.decode(|item| self.sku_of(item))?)),
                None => Ok(None),
            };
        }
        let row = match (id, key) {
            (Some(id), _) => {
                self.conn.query_opt(&format!("SELECT {ORDER_COLS} FROM orders WHERE id = $1"), &[&id.0])?
            }
            (None, Some((channel, external))) => self.conn.query_opt(
                &format!("SELECT {ORDER_COLS} FROM orders WHERE channel_id = $1 AND external_id = $2"),
                &[&channel.0, &external],
            )?,
            (None, None) => None,
        };
        match row {
            Some(r) => Ok(Some(order_row(&r).decode(|item| self.sku_of(item))?)),
            None => Ok(None),
        }
    }

    fn order_ids(&mut self, sql: &str, params: super::Params<'_>) -> Result<Vec<OrderId>> {
        self.flush()?;
        Ok(self.conn.query(sql, params)?.iter().map(|r| OrderId(r.get(0))).collect())
    }

    /// Loads every level of `item` that is not cached yet. Cached entries
    /// win: they may carry changes not yet flushed.
    fn load_levels(&mut self, item: ItemId) -> Result<()> {
        let rows =
            self.conn.query("SELECT fc_id, on_hand, committed FROM stock_levels WHERE item_id = $1", &[&item.0])?;
        for r in rows {
            let level = Level { on_hand: r.get(1), committed: r.get(2) };
            self.st.levels.entry((item, FcId(r.get(0)))).or_insert(CachedLevel { level, stored: Some(level) });
        }
        Ok(())
    }
}

impl Books for Session<'_> {
    type Error = StoreError;

    fn channel_rules(&mut self, channel: ChannelId) -> Result<ChannelRules> {
        if let Some(r) = self.st.rules.get(&channel) {
            return Ok(r.clone());
        }
        let row = self
            .conn
            .query_opt("SELECT name, import_orders, allow_split, all_fcs FROM channels WHERE id = $1", &[&channel.0])?
            .ok_or_else(|| Rejection::NotFound(format!("no channel {}", channel.0)))?;
        let (name, import_orders, allow_split, all_fcs): (String, bool, bool, bool) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let fcs = self
            .conn
            .query(
                "SELECT f.id, f.code FROM fulfillment_centers f
                 WHERE f.active AND ($2 OR EXISTS (SELECT 1 FROM channel_fcs c WHERE c.channel_id = $1 AND c.fc_id = f.id))
                 ORDER BY f.priority, f.code",
                &[&channel.0, &all_fcs],
            )?
            .iter()
            .map(|r| {
                let code: String = r.get(1);
                let code = FcCode::parse(&code).map_err(|e| StoreError::Internal(format!("stored FC code: {e}")))?;
                Ok(FcRef { id: FcId(r.get(0)), code })
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
            self.conn.execute(
                "INSERT INTO listings (channel_id, channel_sku, item_id, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (channel_id, channel_sku) DO UPDATE SET item_id = excluded.item_id",
                &[&channel.0, &channel_sku, &item.0, &self.now.0],
            )?;
            self.st.dirty_items.insert(item);
        }
        let sku = stored_sku(&sku)?;
        self.st.skus.insert(item, sku.clone());
        let parts =
            if kind == "stock" { vec![Part { item, sku: sku.clone(), per_unit: 1 }] } else { self.parts_of(item)? };
        let resolved = Resolved { item, sku, parts };
        self.st.resolved.insert(key, resolved.clone());
        Ok(Some(resolved))
    }

    fn stock_item(&mut self, sku: &str) -> Result<ItemId> {
        let row = self.conn.query_opt("SELECT id, kind FROM items WHERE sku = $1", &[&sku])?;
        match row.map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1))) {
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
        let id: i64 = self
            .conn
            .query_opt("SELECT id FROM fulfillment_centers WHERE code = $1", &[&code])?
            .ok_or_else(|| Rejection::NotFound(format!("no fulfillment center {code}")))?
            .get(0);
        let code = FcCode::parse(code).map_err(|e| StoreError::Internal(e.to_string()))?;
        let f = FcRef { id: FcId(id), code };
        self.st.fcs.insert(f.code.as_str().to_owned(), f.clone());
        Ok(f)
    }

    fn level(&mut self, item: ItemId, fc: FcId) -> Result<Level> {
        if let Some(l) = self.st.levels.get(&(item, fc)) {
            return Ok(l.level);
        }
        // One query fills every FC of the item: allocation reads them all.
        self.load_levels(item)?;
        let cached = *self.st.levels.entry((item, fc)).or_insert(CachedLevel { level: Level::default(), stored: None });
        Ok(cached.level)
    }

    fn total_available(&mut self, item: ItemId) -> Result<i64> {
        // The stored sum plus what this item's unflushed levels change: no
        // flush (two statements) for a question asked after every stock edit.
        let stored: i64 = self
            .conn
            .query_one(
                "SELECT COALESCE(SUM(on_hand - committed), 0)::bigint FROM stock_levels WHERE item_id = $1",
                &[&item.0],
            )?
            .get(0);
        let unflushed: i64 = self
            .st
            .pending
            .levels
            .range((item, FcId(i64::MIN))..=(item, FcId(i64::MAX)))
            .filter_map(|key| self.st.levels.get(key))
            .map(|c| c.level.available() - c.stored.map_or(0, |s| s.available()))
            .sum();
        Ok(stored + unflushed)
    }

    fn apply_movement(&mut self, m: &Movement<'_>) -> Result<Level> {
        let before = self.level(m.item, m.fc)?;
        let after =
            Level { on_hand: before.on_hand + m.on_hand_delta, committed: before.committed + m.committed_delta };
        if after.committed < 0 || after.committed > after.on_hand {
            // The same rule as the CHECK on stock_levels, which would refuse it at flush.
            return Err(StoreError::Internal(format!(
                "stock level of item {} at FC {} would become on_hand {}, committed {}: refused by \
                 CHECK (committed >= 0 AND committed <= on_hand)",
                m.item.0, m.fc.0, after.on_hand, after.committed
            )));
        }
        let id = match self.st.next_movement_id {
            Some(n) => n,
            None => self.conn.query_one("SELECT COALESCE(MAX(id), 0) + 1 FROM movements", &[])?.get(0),
        };
        self.st.next_movement_id = Some(id + 1);
        self.st.pending.movements.push(PendingMovement {
            id,
            at: m.at.0,
            item: m.item.0,
            fc: m.fc.0,
            on_hand_delta: m.on_hand_delta,
            committed_delta: m.committed_delta,
            after,
            reason: m.reason.to_owned(),
            reference: m.reference.to_owned(),
            actor: m.actor.to_owned(),
        });
        if let Some(c) = self.st.levels.get_mut(&(m.item, m.fc)) {
            c.level = after;
        }
        self.st.pending.levels.insert((m.item, m.fc));
        self.st.dirty_items.insert(m.item);
        Ok(after)
    }

    fn new_order_id(&mut self) -> Result<OrderId> {
        let next = match self.st.next_order_id {
            Some(n) => n,
            None => self.conn.query_one("SELECT COALESCE(MAX(id), 0) + 1 FROM orders", &[])?.get(0),
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
        let side_dirty = o.is_new || o.lines.iter().any(|l| l.dirty) || o.status.is_terminal();
        let trace = o.new_trace.join("\n");
        let is_new = o.is_new;
        for (pos, l) in o.lines.iter_mut().enumerate() {
            l.key = Some(LineKey(pos as i64));
            l.dirty = false;
        }
        o.is_new = false;
        o.new_trace.clear();
        if !self.st.known.is_empty() {
            self.st.known.remove(&(o.channel, o.external_id.clone()));
        }
        self.st.pending.save(o, is_new, trace, side_dirty);
        Ok(())
    }

    fn next_backordered(&mut self, item: ItemId, after: Option<QueuePos>) -> Result<Option<QueuePos>> {
        // The queue's rows are written with their orders: only pending
        // orders can make it stale (levels and ledger rows cannot).
        if !self.st.pending.orders.is_empty() {
            self.flush()?;
        }
        let (placed, id) = after.map_or((i64::MIN, i64::MIN), |(t, o)| (t.0, o.0));
        let row = self.conn.query_opt(
            "SELECT placed_at, order_id FROM backorders
             WHERE item_id = $1 AND (placed_at, order_id) > ($2, $3)
             ORDER BY placed_at, order_id LIMIT 1",
            &[&item.0, &placed, &id],
        )?;
        Ok(row.map(|r| (Timestamp(r.get(0)), OrderId(r.get(1)))))
    }

    fn unmapped_orders(&mut self, channel: Option<ChannelId>, channel_sku: &str) -> Result<Vec<OrderId>> {
        self.order_ids(
            "SELECT o.id FROM unmapped_lines u JOIN orders o ON o.id = u.order_id
             WHERE u.channel_sku = $1 AND o.status NOT IN ('shipped', 'cancelled')
               AND ($2::bigint IS NULL OR o.channel_id = $2)
             ORDER BY o.placed_at, o.id",
            &[&channel_sku, &channel.map(|c| c.0)],
        )
    }

    /// Open orders that allocated `item` at `fc`, found through the ledger
    /// (see the SQLite backend): the indexed movements plus the tail.
    fn orders_holding(&mut self, item: ItemId, fc: FcId) -> Result<Vec<OrderId>> {
        self.order_ids(
            "SELECT o.id FROM orders o WHERE o.id IN
               (SELECT substr(m.reference, 7)::bigint FROM movements m
                WHERE m.id IN (SELECT movement_id FROM movement_index WHERE item_id = $1 AND fc_id = $2
                               UNION ALL
                               SELECT id FROM movements
                               WHERE id > (SELECT indexed_upto FROM movement_index_state) AND item_id = $1 AND fc_id = $2)
                  AND m.committed_delta > 0 AND m.reference LIKE 'order:%')
             AND o.status NOT IN ('shipped', 'cancelled')
             ORDER BY o.placed_at DESC, o.id DESC",
            &[&item.0, &fc.0],
        )
    }
}
