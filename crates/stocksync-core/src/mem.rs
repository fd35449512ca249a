//! `MemBooks`: the whole state in memory. It is the reference model the
//! property tests drive, and the yardstick the store's results are compared
//! with. It favours obviousness over speed: queries are scans.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::allocation::{FcRef, Part};
use crate::books::{Books, ChannelRules, Level, Movement, QueuePos, Resolved};
use crate::catalog::{CatalogView, ItemDraft, ItemKind, SkuOwner};
use crate::error::Rejection;
use crate::order::Order;
use crate::values::{ChannelId, FcCode, FcId, ItemId, LineKey, OrderId, Sku};

#[derive(Debug, Clone)]
pub struct MemFc {
    pub id: FcId,
    pub code: FcCode,
    pub priority: i64,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct MemChannel {
    pub id: ChannelId,
    pub name: String,
    pub import_orders: bool,
    pub allow_split: bool,
    /// `None`: every FC sells on the channel.
    pub fcs: Option<Vec<FcId>>,
}

#[derive(Debug, Clone)]
pub struct MemItem {
    pub id: ItemId,
    pub sku: Sku,
    pub kind: ItemKind,
    pub components: Vec<(ItemId, u32)>,
    pub aliases: Vec<Sku>,
}

/// One ledger row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemMovement {
    pub item: ItemId,
    pub fc: FcId,
    pub on_hand_delta: i64,
    pub committed_delta: i64,
    pub on_hand_after: i64,
    pub committed_after: i64,
    pub reason: String,
    pub reference: String,
}

#[derive(Debug, Clone, Default)]
pub struct MemBooks {
    pub fcs: Vec<MemFc>,
    pub channels: Vec<MemChannel>,
    pub items: Vec<MemItem>,
    pub listings: HashMap<(ChannelId, String), ItemId>,
    pub levels: BTreeMap<(ItemId, FcId), Level>,
    pub movements: Vec<MemMovement>,
    pub orders: BTreeMap<OrderId, Order>,
    pub traces: BTreeMap<OrderId, Vec<String>>,
    /// Items whose listings were marked for a push.
    pub marked: BTreeSet<ItemId>,
    next_order: i64,
    next_line: i64,
}

impl CatalogView for MemBooks {
    fn owner(&self, sku: &str) -> Option<SkuOwner> {
        if let Some(it) = self.items.iter().find(|i| i.sku.as_str() == sku) {
            let components = it.components.iter().map(|(c, _)| self.item(*c).sku.clone()).collect();
            return Some(SkuOwner::Item { id: it.id, kind: it.kind, components });
        }
        self.items
            .iter()
            .find(|i| i.aliases.iter().any(|a| a.as_str() == sku))
            .map(|i| SkuOwner::Alias { of: i.sku.clone() })
    }
}

impl MemBooks {
    pub fn add_fc(&mut self, code: &str, priority: i64, active: bool) -> FcId {
        let id = FcId(self.fcs.len() as i64 + 1);
        self.fcs.push(MemFc { id, code: FcCode::parse(code).expect("valid FC code"), priority, active });
        id
    }

    pub fn add_channel(&mut self, name: &str, allow_split: bool, fcs: Option<Vec<FcId>>) -> ChannelId {
        let id = ChannelId(self.channels.len() as i64 + 1);
        self.channels.push(MemChannel { id, name: name.to_owned(), import_orders: true, allow_split, fcs });
        id
    }

    /// Validates and adds an item, as the store does.
    pub fn add_item(&mut self, draft: &ItemDraft) -> Result<ItemId, Rejection> {
        let spec = draft.validate()?;
        spec.check_against(self, None)?;
        let id = ItemId(self.items.len() as i64 + 1);
        let components = spec
            .components
            .iter()
            .map(|c| (self.items.iter().find(|i| i.sku == c.sku).expect("checked").id, c.quantity))
            .collect();
        self.items.push(MemItem { id, sku: spec.sku, kind: spec.kind, components, aliases: spec.aliases });
        Ok(id)
    }

    pub fn item(&self, id: ItemId) -> &MemItem {
        &self.items[(id.0 - 1) as usize]
    }

    pub fn level_of(&self, item: ItemId, fc: FcId) -> Level {
        self.levels.get(&(item, fc)).copied().unwrap_or_default()
    }

    /// Every violation of the invariants of PRODUCT.md §8 that the state shows.
    pub fn violations(&self) -> Vec<String> {
        let mut v = Vec::new();
        let mut sums: HashMap<(ItemId, FcId), (i64, i64)> = HashMap::new();
        for m in &self.movements {
            let s = sums.entry((m.item, m.fc)).or_default();
            s.0 += m.on_hand_delta;
            s.1 += m.committed_delta;
        }
        let mut held: HashMap<(ItemId, FcId), i64> = HashMap::new();
        for o in self.orders.values() {
            for (i, l) in o.lines.iter().enumerate() {
                for a in l.allocs.iter().filter(|a| !a.shipped) {
                    *held.entry((a.item, a.fc)).or_default() += a.quantity;
                    if o.status.is_terminal() {
                        v.push(format!("order {} is {} but holds stock", o.id.0, o.status.as_str()));
                    }
                }
                if !o.status.is_terminal() && !l.removed && l.allocated_units() + l.backordered != l.quantity {
                    v.push(format!("order {} line {}: allocated + backordered ≠ quantity", o.id.0, i + 1));
                }
            }
        }
        for (&(item, fc), lvl) in &self.levels {
            if lvl.available() < 0 || lvl.committed < 0 {
                v.push(format!("oversold: item {} at fc {}: {lvl:?}", item.0, fc.0));
            }
            if sums.get(&(item, fc)).copied().unwrap_or_default() != (lvl.on_hand, lvl.committed) {
                v.push(format!("ledger ≠ level for item {} at fc {}", item.0, fc.0));
            }
            if held.get(&(item, fc)).copied().unwrap_or_default() != lvl.committed {
                v.push(format!("committed ≠ open allocations for item {} at fc {}", item.0, fc.0));
            }
        }
        v
    }

    fn parts_of(&self, id: ItemId) -> Vec<Part> {
        let it = self.item(id);
        match it.kind {
            ItemKind::Stock => vec![Part { item: id, sku: it.sku.clone(), per_unit: 1 }],
            ItemKind::Bundle => it
                .components
                .iter()
                .map(|&(c, q)| Part { item: c, sku: self.item(c).sku.clone(), per_unit: q })
                .collect(),
        }
    }

    fn open_orders(&self) -> impl Iterator<Item = &Order> {
        self.orders.values().filter(|o| !o.status.is_terminal())
    }
}

impl Books for MemBooks {
    type Error = Rejection;

    fn channel_rules(&mut self, channel: ChannelId) -> Result<ChannelRules, Rejection> {
        let ch = self
            .channels
            .iter()
            .find(|c| c.id == channel)
            .ok_or_else(|| Rejection::NotFound(format!("no channel {}", channel.0)))?;
        let mut fcs: Vec<&MemFc> =
            self.fcs.iter().filter(|f| f.active && ch.fcs.as_ref().is_none_or(|set| set.contains(&f.id))).collect();
        fcs.sort_by(|a, b| (a.priority, &a.code).cmp(&(b.priority, &b.code)));
        Ok(ChannelRules {
            name: ch.name.clone(),
            import_orders: ch.import_orders,
            allow_split: ch.allow_split,
            fcs: fcs.into_iter().map(|f| FcRef { id: f.id, code: f.code.clone() }).collect(),
        })
    }

    fn resolve(&mut self, channel: ChannelId, channel_sku: &str) -> Result<Option<Resolved>, Rejection> {
        let found = match self.listings.get(&(channel, channel_sku.to_owned())) {
            Some(&item) => Some(item),
            None => {
                let by_sku = self.items.iter().find(|i| i.sku.as_str() == channel_sku);
                let by_alias = || self.items.iter().find(|i| i.aliases.iter().any(|a| a.as_str() == channel_sku));
                let item = by_sku.or_else(by_alias).map(|i| i.id);
                if let Some(item) = item {
                    self.listings.insert((channel, channel_sku.to_owned()), item);
                    self.marked.insert(item);
                }
                item
            }
        };
        Ok(found.map(|item| Resolved { item, sku: self.item(item).sku.clone(), parts: self.parts_of(item) }))
    }

    fn stock_item(&mut self, sku: &str) -> Result<ItemId, Rejection> {
        match self.items.iter().find(|i| i.sku.as_str() == sku) {
            None => Err(Rejection::NotFound(format!("no item {sku}"))),
            Some(i) if i.kind == ItemKind::Bundle => {
                Err(Rejection::invalid("sku", format!("{sku} is a bundle: it holds no stock of its own")))
            }
            Some(i) => Ok(i.id),
        }
    }

    fn fc(&mut self, code: &str) -> Result<FcRef, Rejection> {
        self.fcs
            .iter()
            .find(|f| f.code.as_str() == code)
            .map(|f| FcRef { id: f.id, code: f.code.clone() })
            .ok_or_else(|| Rejection::NotFound(format!("no fulfillment center {code}")))
    }

    fn level(&mut self, item: ItemId, fc: FcId) -> Result<Level, Rejection> {
        Ok(self.level_of(item, fc))
    }

    fn total_available(&mut self, item: ItemId) -> Result<i64, Rejection> {
        Ok(self.levels.range((item, FcId(i64::MIN))..=(item, FcId(i64::MAX))).map(|(_, l)| l.available()).sum())
    }

    fn apply_movement(&mut self, m: &Movement<'_>) -> Result<Level, Rejection> {
        let lvl = self.levels.entry((m.item, m.fc)).or_default();
        let after = Level { on_hand: lvl.on_hand + m.on_hand_delta, committed: lvl.committed + m.committed_delta };
        if after.committed < 0 || after.committed > after.on_hand {
            return Err(Rejection::Conflict(format!("movement would break the level: {after:?}")));
        }
        *lvl = after;
        self.movements.push(MemMovement {
            item: m.item,
            fc: m.fc,
            on_hand_delta: m.on_hand_delta,
            committed_delta: m.committed_delta,
            on_hand_after: after.on_hand,
            committed_after: after.committed,
            reason: m.reason.to_owned(),
            reference: m.reference.to_owned(),
        });
        self.marked.insert(m.item);
        let bundles: Vec<ItemId> =
            self.items.iter().filter(|i| i.components.iter().any(|c| c.0 == m.item)).map(|i| i.id).collect();
        self.marked.extend(bundles);
        Ok(after)
    }

    fn new_order_id(&mut self) -> Result<OrderId, Rejection> {
        self.next_order += 1;
        Ok(OrderId(self.next_order))
    }

    fn find_order(&mut self, channel: ChannelId, external_id: &str) -> Result<Option<Order>, Rejection> {
        Ok(self.orders.values().find(|o| o.channel == channel && o.external_id == external_id).cloned())
    }

    fn load_order(&mut self, id: OrderId) -> Result<Option<Order>, Rejection> {
        Ok(self.orders.get(&id).cloned())
    }

    fn save_order(&mut self, order: &mut Order) -> Result<(), Rejection> {
        order.is_new = false;
        for l in &mut order.lines {
            if l.key.is_none() {
                self.next_line += 1;
                l.key = Some(LineKey(self.next_line));
            }
            l.dirty = false;
        }
        self.traces.entry(order.id).or_default().append(&mut order.new_trace);
        self.orders.insert(order.id, order.clone());
        Ok(())
    }

    fn next_backordered(&mut self, item: ItemId, after: Option<QueuePos>) -> Result<Option<QueuePos>, Rejection> {
        Ok(self
            .open_orders()
            .filter(|o| {
                o.lines.iter().any(|l| !l.removed && l.backordered > 0 && l.parts.iter().any(|p| p.item == item))
            })
            .map(|o| (o.placed_at, o.id))
            .filter(|pos| after.is_none_or(|a| *pos > a))
            .min())
    }

    fn unmapped_orders(&mut self, channel: Option<ChannelId>, channel_sku: &str) -> Result<Vec<OrderId>, Rejection> {
        let mut found: Vec<QueuePos> = self
            .open_orders()
            .filter(|o| channel.is_none_or(|c| c == o.channel))
            .filter(|o| o.lines.iter().any(|l| !l.removed && !l.is_mapped() && l.channel_sku == channel_sku))
            .map(|o| (o.placed_at, o.id))
            .collect();
        found.sort();
        Ok(found.into_iter().map(|p| p.1).collect())
    }

    fn orders_holding(&mut self, item: ItemId, fc: FcId) -> Result<Vec<OrderId>, Rejection> {
        let mut found: Vec<QueuePos> = self
            .open_orders()
            .filter(|o| o.lines.iter().any(|l| l.allocs.iter().any(|a| !a.shipped && a.item == item && a.fc == fc)))
            .map(|o| (o.placed_at, o.id))
            .collect();
        found.sort_by(|a, b| b.cmp(a));
        Ok(found.into_iter().map(|p| p.1).collect())
    }
}
