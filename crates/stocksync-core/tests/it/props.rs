//! Property tests. Random worlds (FCs with random priorities, some inactive;
//! stock items, bundles of 1–3 components, aliases; channels with their FC
//! sets and split setting; stock levels) and random streams of operations
//! over `MemBooks` through the `workflow` functions. After every step the
//! invariants of PRODUCT.md §8 hold, plus what §2 promises: statuses follow
//! the lines, a rejected request changes nothing, the ledger only grows, and
//! no backordered line is left while stock it could take is available.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use stocksync_core::allocation::{FcRef, Mode, Need, Part, allocate, check_plan};
use stocksync_core::books::Books;
use stocksync_core::catalog::{CatalogView, ItemDraft};
use stocksync_core::mem::MemBooks;
use stocksync_core::order::{IncomingOrder, Order, OrderStatus, RawLine, SourceStatus};
use stocksync_core::workflow::{
    StockTarget, adjust_stock, cancel_order, import_order, map_channel_sku, set_stock, ship_order,
};
use stocksync_core::{ChannelId, FcCode, FcId, ItemId, OrderId, Rejection, Sku, Timestamp};

use crate::common::{Snapshot, cx, snapshot};

// ---------------------------------------------------------------------------
// The world.

#[derive(Debug, Clone)]
struct WorldSpec {
    /// (priority, active) per FC; codes F0, F1, …
    fcs: Vec<(i64, bool)>,
    /// Stock items S0, S1, …
    stock_items: usize,
    /// Bundles K0, K1, …: (stock item index, quantity) per component.
    bundles: Vec<Vec<(usize, i64)>>,
    /// Per item (stock items, then bundles): whether it has the alias `AKA-<sku>`.
    aliases: Vec<bool>,
    /// Initial on_hand per [stock item][FC].
    on_hand: Vec<Vec<i64>>,
    /// Per channel: allow_split, and which FCs sell on it (all → every FC).
    channels: Vec<(bool, Vec<bool>)>,
}

fn world() -> impl Strategy<Value = WorldSpec> {
    (
        prop::collection::vec((1i64..=3, prop::bool::weighted(0.8)), 1..=5),
        2usize..=4,
        prop::collection::vec(prop::collection::vec((0usize..4, 1i64..=3), 1..=3), 0..=2),
        prop::collection::vec(any::<bool>(), 6),
        prop::collection::vec(prop::collection::vec(0i64..=9, 5), 4),
        prop::collection::vec((prop::bool::weighted(0.7), prop::collection::vec(prop::bool::weighted(0.75), 5)), 1..=2),
    )
        .prop_map(|(fcs, stock_items, bundles, aliases, on_hand, channels)| WorldSpec {
            fcs,
            stock_items,
            bundles,
            aliases,
            on_hand,
            channels,
        })
}

/// How an order line names its SKU.
#[derive(Debug, Clone, Copy)]
enum Pick {
    /// An item's own SKU (index modulo the catalog size).
    Item(usize),
    /// An item's alias, or its SKU if it has none.
    Alias(usize),
    /// `U<k>`: unknown until a `Map` operation names it.
    Unknown(usize),
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        6 => (0usize..16).prop_map(Pick::Item),
        2 => (0usize..16).prop_map(Pick::Alias),
        2 => (0usize..3).prop_map(Pick::Unknown),
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Qty {
        line: usize,
        qty: i64,
    },
    /// A new line, or with `revive` a line the channel had removed, back again.
    Add {
        pick: Pick,
        qty: i64,
        revive: bool,
    },
    Remove {
        line: usize,
    },
    Resku {
        line: usize,
        pick: Pick,
    },
    Status(SourceStatus),
}

#[derive(Debug, Clone, Copy)]
enum Target {
    OnHand(i64),
    Available(i64),
    /// `on_hand` = `committed − k`: a counting correction.
    BelowCommitted(i64),
}

#[derive(Debug, Clone, Copy)]
enum How {
    /// A listing on one channel.
    Listing,
    /// A new stock item with the SKU itself.
    ItemSku,
    /// A new stock item with the SKU as its alias.
    Alias,
}

#[derive(Debug, Clone)]
enum Op {
    New {
        channel: usize,
        lines: Vec<(Pick, i64)>,
        status: SourceStatus,
    },
    Edit {
        order: usize,
        edit: Edit,
    },
    /// Re-import an earlier (or the latest) version of an order.
    Stale {
        order: usize,
        version: usize,
    },
    Cancel {
        order: usize,
    },
    Ship {
        order: usize,
    },
    Set {
        item: usize,
        fc: usize,
        target: Target,
    },
    Adjust {
        item: usize,
        fc: usize,
        delta: i64,
    },
    Map {
        k: usize,
        how: How,
        channel: usize,
        item: usize,
    },
}

fn source_status() -> impl Strategy<Value = SourceStatus> {
    prop_oneof![Just(SourceStatus::Open), Just(SourceStatus::Cancelled), Just(SourceStatus::Shipped)]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (0usize..8, 1i64..=6).prop_map(|(line, qty)| Edit::Qty { line, qty }),
        2 => (pick(), 1i64..=4, any::<bool>()).prop_map(|(pick, qty, revive)| Edit::Add { pick, qty, revive }),
        2 => (0usize..8).prop_map(|line| Edit::Remove { line }),
        1 => (0usize..8, pick()).prop_map(|(line, pick)| Edit::Resku { line, pick }),
        3 => source_status().prop_map(Edit::Status),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let new_status = prop_oneof![
        8 => Just(SourceStatus::Open),
        1 => Just(SourceStatus::Shipped),
        1 => Just(SourceStatus::Cancelled),
    ];
    let target = prop_oneof![
        (0i64..=12).prop_map(Target::OnHand),
        (0i64..=8).prop_map(Target::Available),
        (1i64..=3).prop_map(Target::BelowCommitted),
    ];
    let how = prop_oneof![Just(How::Listing), Just(How::ItemSku), Just(How::Alias)];
    prop_oneof![
        5 => (0usize..2, prop::collection::vec((pick(), 1i64..=4), 1..=3), new_status)
            .prop_map(|(channel, lines, status)| Op::New { channel, lines, status }),
        5 => (0usize..64, edit()).prop_map(|(order, edit)| Op::Edit { order, edit }),
        1 => (0usize..64, 0usize..16).prop_map(|(order, version)| Op::Stale { order, version }),
        1 => (0usize..64).prop_map(|order| Op::Cancel { order }),
        1 => (0usize..64).prop_map(|order| Op::Ship { order }),
        3 => (0usize..16, 0usize..5, target).prop_map(|(item, fc, target)| Op::Set { item, fc, target }),
        2 => (0usize..16, 0usize..5, -6i64..=6).prop_map(|(item, fc, delta)| Op::Adjust { item, fc, delta }),
        2 => (0usize..3, how, 0usize..2, 0usize..16).prop_map(|(k, how, channel, item)| Op::Map { k, how, channel, item }),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..=40)
}

// ---------------------------------------------------------------------------
// Running a stream.

#[derive(Debug, Clone)]
struct CatItem {
    sku: String,
    alias: Option<String>,
    bundle: bool,
}

/// An order as the channel last reported it, with every version sent.
#[derive(Debug, Clone)]
struct Tracked {
    id: OrderId,
    versions: Vec<IncomingOrder>,
    next_line: usize,
}

#[derive(Debug)]
struct Run {
    b: MemBooks,
    channels: Vec<ChannelId>,
    fcs: Vec<String>,
    items: Vec<CatItem>,
    orders: Vec<Tracked>,
    clock: i64,
    added: usize,
    /// Assert after every step; off, the run only records (for determinism).
    check: bool,
    /// The step being run, for failure messages.
    step: String,
}

fn item_draft(sku: &str, kind: &str, components: Vec<(String, i64)>, alias: Option<&String>) -> ItemDraft {
    ItemDraft {
        sku: sku.to_owned(),
        title: None,
        kind: kind.to_owned(),
        components,
        aliases: alias.into_iter().cloned().collect(),
    }
}

impl Run {
    fn new(w: &WorldSpec, check: bool) -> Self {
        let mut b = MemBooks::default();
        let mut fcs = Vec::new();
        let mut fc_ids = Vec::new();
        for (i, &(priority, active)) in w.fcs.iter().enumerate() {
            let code = format!("F{i}");
            fc_ids.push(b.add_fc(&code, priority, active));
            fcs.push(code);
        }
        let mut items = Vec::new();
        for i in 0..w.stock_items {
            let sku = format!("S{i}");
            let alias = w.aliases[i].then(|| format!("AKA-{sku}"));
            b.add_item(&item_draft(&sku, "stock", Vec::new(), alias.as_ref())).expect("stock item");
            items.push(CatItem { sku, alias, bundle: false });
        }
        for (j, comps) in w.bundles.iter().enumerate() {
            let sku = format!("K{j}");
            let comps: BTreeMap<usize, i64> = comps.iter().map(|&(i, q)| (i % w.stock_items, q)).collect();
            let comps = comps.into_iter().map(|(i, q)| (format!("S{i}"), q)).collect();
            let alias = w.aliases[w.stock_items + j].then(|| format!("AKA-{sku}"));
            b.add_item(&item_draft(&sku, "bundle", comps, alias.as_ref())).expect("bundle");
            items.push(CatItem { sku, alias, bundle: true });
        }
        let mut channels = Vec::new();
        for (k, (split, mask)) in w.channels.iter().enumerate() {
            let set = (!mask[..fcs.len()].iter().all(|&m| m))
                .then(|| fc_ids.iter().zip(mask).filter(|(_, m)| **m).map(|(id, _)| *id).collect());
            channels.push(b.add_channel(&format!("ch{k}"), *split, set));
        }
        for (i, row) in w.on_hand.iter().take(w.stock_items).enumerate() {
            for (f, &n) in row.iter().take(fcs.len()).enumerate() {
                if n > 0 {
                    set_stock(&mut b, &format!("S{i}"), &fcs[f], StockTarget::OnHand(n), None, "setup", &cx(0))
                        .expect("initial stock");
                }
            }
        }
        Self { b, channels, fcs, items, orders: Vec::new(), clock: 1, added: 0, check, step: String::new() }
    }

    fn sku_for(&self, p: Pick) -> String {
        match p {
            Pick::Item(i) => self.items[i % self.items.len()].sku.clone(),
            Pick::Alias(i) => {
                let it = &self.items[i % self.items.len()];
                it.alias.clone().unwrap_or_else(|| it.sku.clone())
            }
            Pick::Unknown(k) => format!("U{k}"),
        }
    }

    fn item_id(&self, sku: &str) -> ItemId {
        self.b.items.iter().find(|i| i.sku.as_str() == sku).expect("known item").id
    }

    fn order(&self, id: OrderId) -> &Order {
        &self.b.orders[&id]
    }

    /// Open orders (on `channel`, or any) with a live unmapped line for `sku`.
    fn unmapped(&self, channel: Option<ChannelId>, sku: &str) -> usize {
        self.b
            .orders
            .values()
            .filter(|o| !o.status.is_terminal() && channel.is_none_or(|c| c == o.channel))
            .filter(|o| o.lines.iter().any(|l| !l.removed && !l.is_mapped() && l.channel_sku == sku))
            .count()
    }

    #[track_caller]
    fn ensure(&self, ok: bool, what: impl std::fmt::Display) {
        if self.check && !ok {
            panic!("{what}\nstep: {}\norders: {:#?}\nlevels: {:?}", self.step, self.b.orders, self.b.levels);
        }
    }

    #[track_caller]
    fn ensure_unchanged(&self, pre: &Snapshot, what: &str) {
        if self.check {
            let now = snapshot(&self.b);
            self.ensure(&now == pre, format!("{what}: the state changed"));
        }
    }

    fn run(&mut self, ops: &[Op]) {
        for (n, op) in ops.iter().enumerate() {
            self.step = format!("#{n}: {op:?}");
            self.clock += 1;
            let pre = snapshot(&self.b);
            self.apply(op, &pre);
            if self.check {
                self.check_invariants(&pre);
            }
        }
    }

    fn apply(&mut self, op: &Op, pre: &Snapshot) {
        let t = self.clock;
        match op {
            Op::New { channel, lines, status } => {
                let ch = self.channels[channel % self.channels.len()];
                let ext = format!("O{}", self.orders.len() + 1);
                let raw: Vec<RawLine> =
                    lines.iter().enumerate().map(|(i, (p, q))| (format!("L{}", i + 1), self.sku_for(*p), *q)).collect();
                let inc = IncomingOrder::new(ch, &ext, *status, Timestamp(t), Some(Timestamp(t)), &raw)
                    .expect("a generated order is valid");
                let out = import_order(&mut self.b, &inc, &cx(t));
                self.ensure(out.is_ok(), format!("import failed: {out:?}"));
                let Ok(out) = out else { return };
                self.ensure(out.created && out.changed, "a new order is created");
                let o = self.order(out.order);
                self.ensure(o.same_content(&inc), "the order holds what the channel sent");
                self.ensure(
                    out.status == o.status,
                    format!("outcome says {:?}, the order is {:?}", out.status, o.status),
                );
                let want_ok = match status {
                    SourceStatus::Open => !o.status.is_terminal(),
                    SourceStatus::Shipped => o.status == OrderStatus::Shipped,
                    SourceStatus::Cancelled => o.status == OrderStatus::Cancelled,
                };
                self.ensure(want_ok, format!("new {status:?} order has status {:?}", o.status));
                self.orders.push(Tracked { id: out.order, versions: vec![inc], next_line: lines.len() + 1 });
            }
            Op::Edit { order, edit } => {
                if self.orders.is_empty() {
                    return;
                }
                let k = order % self.orders.len();
                let inc = self.edited(k, edit, t);
                let before = self.order(self.orders[k].id).clone();
                let out = import_order(&mut self.b, &inc, &cx(t));
                self.ensure(out.is_ok(), format!("import failed: {out:?}"));
                let Ok(out) = out else { return };
                self.orders[k].versions.push(inc.clone());
                let o = self.order(out.order);
                let changed = !before.same_content(&inc);
                self.ensure(!out.created && out.changed == changed, format!("expected changed = {changed}: {out:?}"));
                self.ensure(
                    out.status == o.status,
                    format!("outcome says {:?}, the order is {:?}", out.status, o.status),
                );
                self.ensure(o.source_updated_at == inc.updated_at, "the newest version time is kept");
                if !changed {
                    let mut same = pre.clone();
                    same.orders.insert(o.id, o.clone());
                    self.ensure_unchanged(&same, "an unchanged version");
                    return;
                }
                self.ensure(o.same_content(&inc), "the order holds what the channel sent");
                self.ensure(o.source_status == inc.status, "source status follows the channel");
                use OrderStatus as S;
                use SourceStatus as Src;
                let want = match (before.status, before.source_status, inc.status) {
                    (S::Shipped, _, _) => Some(S::Shipped),
                    (S::Cancelled, Src::Cancelled, Src::Open) => None,
                    (S::Cancelled, Src::Cancelled, Src::Shipped) => Some(S::Shipped),
                    (S::Cancelled, _, _) => Some(S::Cancelled),
                    (_, _, Src::Cancelled) => Some(S::Cancelled),
                    (_, _, Src::Shipped) => Some(S::Shipped),
                    (_, _, Src::Open) => None,
                };
                let ok = want.map_or(!o.status.is_terminal(), |w| w == o.status);
                self.ensure(
                    ok,
                    format!("status {:?} after {:?} → {:?}, want {want:?}", o.status, before.status, inc.status),
                );
            }
            Op::Stale { order, version } => {
                if self.orders.is_empty() {
                    return;
                }
                let tr = &self.orders[order % self.orders.len()];
                let inc = tr.versions[version % tr.versions.len()].clone();
                let out = import_order(&mut self.b, &inc, &cx(t));
                self.ensure(
                    matches!(out, Ok(o) if !o.changed && !o.created),
                    format!("a replayed version changes nothing: {out:?}"),
                );
                self.ensure_unchanged(pre, "a replayed version");
            }
            Op::Cancel { order } | Op::Ship { order } => {
                if self.orders.is_empty() {
                    return;
                }
                let id = self.orders[order % self.orders.len()].id;
                let was = self.order(id).status;
                let cancel = matches!(op, Op::Cancel { .. });
                let r =
                    if cancel { cancel_order(&mut self.b, id, &cx(t)) } else { ship_order(&mut self.b, id, &cx(t)) };
                if was.is_terminal() {
                    self.ensure(matches!(r, Err(Rejection::Conflict(_))), format!("a {was:?} order: {r:?}"));
                    self.ensure_unchanged(pre, "a refused cancel/ship");
                } else {
                    let want = if cancel { OrderStatus::Cancelled } else { OrderStatus::Shipped };
                    self.ensure(
                        matches!(&r, Ok(o) if o.status == want) && self.order(id).status == want,
                        format!("{r:?}"),
                    );
                }
            }
            Op::Set { item, fc, target } => {
                let it = self.items[item % self.items.len()].clone();
                let f = fc % self.fcs.len();
                let (item_id, fc_id) = (self.item_id(&it.sku), self.b.fcs[f].id);
                let lvl = self.b.level_of(item_id, fc_id);
                let (target, on_hand) = match *target {
                    Target::OnHand(n) => (StockTarget::OnHand(n), n),
                    Target::Available(n) => (StockTarget::Available(n), lvl.committed + n),
                    Target::BelowCommitted(k) => {
                        let n = (lvl.committed - k).max(0);
                        (StockTarget::OnHand(n), n)
                    }
                };
                let r = set_stock(&mut self.b, &it.sku, &self.fcs[f], target, None, "prop", &cx(t));
                self.stock_result(&it, r, on_hand, item_id, fc_id, pre);
            }
            Op::Adjust { item, fc, delta } => {
                let it = self.items[item % self.items.len()].clone();
                let f = fc % self.fcs.len();
                let (item_id, fc_id) = (self.item_id(&it.sku), self.b.fcs[f].id);
                let on_hand = self.b.level_of(item_id, fc_id).on_hand + delta;
                let r = adjust_stock(&mut self.b, &it.sku, &self.fcs[f], *delta, Some("prop"), "prop", &cx(t));
                if !it.bundle && on_hand < 0 {
                    let named = matches!(&r, Err(Rejection::Invalid(e)) if e[0].field == "delta");
                    self.ensure(named, format!("a delta below zero is refused naming the field: {r:?}"));
                    self.ensure_unchanged(pre, "a refused adjustment");
                } else {
                    self.stock_result(&it, r, on_hand, item_id, fc_id, pre);
                }
            }
            Op::Map { k, how, channel, item } => self.map(*k, *how, *channel, *item, pre, t),
        }
    }

    fn stock_result(
        &self,
        it: &CatItem,
        r: Result<stocksync_core::books::Level, Rejection>,
        on_hand: i64,
        item: ItemId,
        fc: FcId,
        pre: &Snapshot,
    ) {
        if it.bundle {
            let named = matches!(&r, Err(Rejection::Invalid(e)) if e[0].field == "sku");
            self.ensure(named, format!("a bundle holds no stock: {r:?}"));
            self.ensure_unchanged(pre, "a refused stock edit");
            return;
        }
        self.ensure(matches!(r, Ok(l) if l.on_hand == on_hand), format!("want on_hand {on_hand}, got {r:?}"));
        self.ensure(r.ok() == Some(self.b.level_of(item, fc)), "the returned level is the stored one");
    }

    /// The next version of order `k` after `edit`.
    fn edited(&mut self, k: usize, edit: &Edit, t: i64) -> IncomingOrder {
        let last = self.orders[k].versions.last().expect("a version").clone();
        let mut lines: Vec<RawLine> =
            last.lines.iter().map(|l| (l.line_id.clone(), l.channel_sku.clone(), i64::from(l.quantity))).collect();
        let mut status = last.status;
        let n = lines.len();
        match edit {
            Edit::Qty { line, qty } => lines[line % n].2 = *qty,
            Edit::Add { pick, qty, revive } => {
                let gone = self.orders[k]
                    .versions
                    .iter()
                    .flat_map(|v| &v.lines)
                    .find(|l| !lines.iter().any(|c| c.0 == l.line_id))
                    .cloned();
                match gone {
                    Some(l) if *revive => lines.push((l.line_id, l.channel_sku, *qty)),
                    _ if n < 4 => {
                        let id = format!("L{}", self.orders[k].next_line);
                        self.orders[k].next_line += 1;
                        lines.push((id, self.sku_for(*pick), *qty));
                    }
                    _ => {}
                }
            }
            Edit::Remove { line } => {
                if n > 1 {
                    lines.remove(line % n);
                }
            }
            Edit::Resku { line, pick } => lines[line % n].1 = self.sku_for(*pick),
            Edit::Status(s) => status = *s,
        }
        IncomingOrder::new(last.channel, &last.external_id, status, last.placed_at, Some(Timestamp(t)), &lines)
            .expect("a generated version is valid")
    }

    fn map(&mut self, k: usize, how: How, channel: usize, item: usize, pre: &Snapshot, t: i64) {
        let sku = format!("U{k}");
        let scope = match how {
            How::Listing => {
                let ch = self.channels[channel % self.channels.len()];
                let target = self.item_id(&self.items[item % self.items.len()].sku.clone());
                self.b.listings.insert((ch, sku.clone()), target);
                Some(ch)
            }
            How::ItemSku | How::Alias => {
                let taken = self.b.owner(&sku).is_some();
                let (new_sku, alias) = match how {
                    How::ItemSku => (sku.clone(), None),
                    _ => (format!("N{}", self.added), Some(sku.clone())),
                };
                self.added += 1;
                match self.b.add_item(&item_draft(&new_sku, "stock", Vec::new(), alias.as_ref())) {
                    Err(e) => {
                        self.ensure(taken, format!("{sku} was free, yet: {e}"));
                        self.ensure(matches!(e, Rejection::Invalid(_)), format!("{e:?}"));
                        self.ensure_unchanged(pre, "a refused item");
                        return;
                    }
                    Ok(_) => {
                        self.ensure(!taken, format!("{sku} was taken, yet the item was added"));
                        self.items.push(CatItem { sku: new_sku, alias, bundle: false });
                    }
                }
                None
            }
        };
        let expected = self.unmapped(scope, &sku);
        let r = map_channel_sku(&mut self.b, scope, &sku, &cx(t));
        self.ensure(r == Ok(expected), format!("map {sku}: {r:?}, expected Ok({expected})"));
        self.ensure(self.unmapped(scope, &sku) == 0, format!("{sku} is still unmapped"));
    }

    fn check_invariants(&mut self, pre: &Snapshot) {
        let v = self.b.violations();
        self.ensure(v.is_empty(), format!("invariants broken: {v:#?}"));
        self.ensure(self.b.movements.starts_with(&pre.movements), "the ledger is append-only");
        for (id, trace) in &pre.traces {
            self.ensure(self.b.traces[id].starts_with(trace), "traces are append-only");
        }
        for o in self.b.orders.values() {
            if o.status.is_terminal() {
                self.ensure(o.lines.iter().all(|l| l.backordered == 0), format!("order {} is closed", o.id.0));
            } else {
                let d = o.derived_status();
                self.ensure(o.status == d, format!("order {}: status {:?}, lines say {d:?}", o.id.0, o.status));
            }
        }
        let stranded = self.stranded();
        self.ensure(stranded.is_empty(), format!("backorders left beside available stock: {stranded:#?}"));
    }

    /// Backordered lines that could take stock available now (PRODUCT.md
    /// §2.7: backorders are allocated as soon as units are available).
    fn stranded(&mut self) -> Vec<String> {
        let stock: HashMap<(ItemId, FcId), i64> = self.b.levels.iter().map(|(k, l)| (*k, l.available())).collect();
        let open: Vec<Order> = self.b.orders.values().filter(|o| !o.status.is_terminal()).cloned().collect();
        let mut found = Vec::new();
        for o in open {
            let rules = self.b.channel_rules(o.channel).expect("channel");
            for (i, l) in o.lines.iter().enumerate() {
                if l.removed || !l.is_mapped() || l.backordered == 0 {
                    continue;
                }
                let need = Need { line_no: i + 1, label: &l.channel_sku, parts: &l.parts, units: l.backordered };
                let mode = Mode { whole_order_first: false, allow_split: rules.allow_split };
                let plan = allocate(&[need], &rules.fcs, &stock, mode);
                if !plan.lines[0].takes.is_empty() {
                    found.push(format!("order {} line {}: {:?}", o.id.0, i + 1, plan.trace));
                }
            }
        }
        found
    }
}

fn run(w: &WorldSpec, ops: &[Op], check: bool) -> Run {
    let mut r = Run::new(w, check);
    r.run(ops);
    r
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::common::cases(128), ..ProptestConfig::default() })]

    /// Every step of a random operation stream keeps every invariant.
    #[test]
    fn random_streams_keep_the_invariants(w in world(), ops in ops()) {
        run(&w, &ops, true);
    }

    /// The same stream on two fresh books gives the same state, to the last
    /// ledger row and trace line.
    #[test]
    fn runs_are_deterministic(w in world(), ops in ops()) {
        let (a, b) = (run(&w, &ops, false), run(&w, &ops, false));
        prop_assert_eq!(snapshot(&a.b), snapshot(&b.b));
    }
}

// ---------------------------------------------------------------------------
// The allocation rule on random inputs.

#[derive(Debug, Clone)]
struct AllocCase {
    /// Per line: parts (item index, per unit; empty = unmapped) and units.
    lines: Vec<(Vec<(usize, u32)>, u32)>,
    fcs: usize,
    /// Available per [item][FC]; may be negative.
    stock: Vec<Vec<i64>>,
    mode: Mode,
}

fn alloc_case() -> impl Strategy<Value = AllocCase> {
    let parts = prop::collection::btree_map(0usize..4, 1u32..=3, 0..=3).prop_map(|m| m.into_iter().collect::<Vec<_>>());
    (
        prop::collection::vec((parts, 1u32..=8), 1..=4),
        0usize..=5,
        prop::collection::vec(prop::collection::vec(-2i64..=10, 5), 4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, fcs, stock, whole_order_first, allow_split)| AllocCase {
            lines,
            fcs,
            stock,
            mode: Mode { whole_order_first, allow_split },
        })
}

type LineResult = (Vec<(usize, u32)>, u32);

/// An independent reading of PRODUCT.md §3, for comparison with `allocate`.
fn reference(c: &AllocCase) -> Vec<LineResult> {
    let mut avail = c.stock.clone();
    let mut out: Vec<LineResult> = vec![(Vec::new(), 0); c.lines.len()];
    let units_at = |avail: &Vec<Vec<i64>>, parts: &[(usize, u32)], f: usize| -> u32 {
        parts.iter().map(|&(i, per)| (avail[i][f].max(0) / i64::from(per)) as u32).min().unwrap_or(0)
    };
    let take = |avail: &mut Vec<Vec<i64>>, parts: &[(usize, u32)], f: usize, u: u32| {
        for &(i, per) in parts {
            avail[i][f] -= i64::from(u) * i64::from(per);
        }
    };
    let mapped: Vec<usize> = (0..c.lines.len()).filter(|&n| !c.lines[n].0.is_empty()).collect();
    if mapped.is_empty() {
        return out;
    }
    if c.mode.whole_order_first {
        let mut demand = [0i64; 4];
        for &n in &mapped {
            for &(i, per) in &c.lines[n].0 {
                demand[i] += i64::from(c.lines[n].1) * i64::from(per);
            }
        }
        if let Some(f) = (0..c.fcs).find(|&f| (0..4).all(|i| demand[i] == 0 || avail[i][f] >= demand[i])) {
            for &n in &mapped {
                out[n].0.push((f, c.lines[n].1));
            }
            return out;
        }
    }
    let mut left: Vec<u32> = c.lines.iter().map(|l| l.1).collect();
    for &n in &mapped {
        let parts = &c.lines[n].0;
        if let Some(f) = (0..c.fcs).find(|&f| units_at(&avail, parts, f) >= left[n]) {
            take(&mut avail, parts, f, left[n]);
            out[n].0.push((f, left[n]));
            left[n] = 0;
        }
    }
    for &n in &mapped {
        let parts = &c.lines[n].0;
        if c.mode.allow_split {
            for f in 0..c.fcs {
                let u = units_at(&avail, parts, f).min(left[n]);
                if u > 0 {
                    take(&mut avail, parts, f, u);
                    out[n].0.push((f, u));
                    left[n] -= u;
                }
            }
        }
        out[n].1 = left[n];
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::common::cases(512), ..ProptestConfig::default() })]

    /// `check_plan` accepts every plan `allocate` makes, and the plan is the
    /// one an independent implementation of the rule makes.
    #[test]
    fn allocate_follows_the_rule(c in alloc_case()) {
        let fcs: Vec<FcRef> = (0..c.fcs)
            .map(|f| FcRef { id: FcId(f as i64 + 1), code: FcCode::parse(&format!("F{f}")).unwrap() })
            .collect();
        let skus: Vec<Sku> = (0..4).map(|i| Sku::parse(&format!("I{i}")).unwrap()).collect();
        let parts: Vec<Vec<Part>> = c
            .lines
            .iter()
            .map(|(ps, _)| {
                ps.iter().map(|&(i, per)| Part { item: ItemId(i as i64 + 1), sku: skus[i].clone(), per_unit: per }).collect()
            })
            .collect();
        let needs: Vec<Need<'_>> = c
            .lines
            .iter()
            .zip(&parts)
            .enumerate()
            .map(|(n, ((_, units), p))| Need { line_no: n + 1, label: "L", parts: p, units: *units })
            .collect();
        let mut stock: HashMap<(ItemId, FcId), i64> = HashMap::new();
        for (i, row) in c.stock.iter().enumerate() {
            for (f, &q) in row.iter().take(c.fcs).enumerate() {
                stock.insert((ItemId(i as i64 + 1), FcId(f as i64 + 1)), q);
            }
        }
        let plan = allocate(&needs, &fcs, &stock, c.mode);
        prop_assert_eq!(check_plan(&needs, &fcs, &stock, c.mode, &plan), Ok(()));
        let got: Vec<LineResult> = plan.lines.iter().map(|l| (l.takes.clone(), l.backordered)).collect();
        prop_assert_eq!(got, reference(&c));
    }
}

// ---------------------------------------------------------------------------
// The pushed quantity (PRODUCT.md §4).

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::common::cases(512), ..ProptestConfig::default() })]

    /// Never negative, never above `max_visible`, zero below
    /// `min_threshold`, the plain sum without buffers, and more stock never
    /// shows less.
    #[test]
    fn pushed_quantity_keeps_its_bounds(
        per_fc in prop::collection::vec(-5i64..=50, 0..=5),
        percent in 0u32..=120,
        min_threshold in 0i64..=20,
        max_visible in prop::option::of(0i64..=40),
        bump in (0usize..5, 1i64..=10),
    ) {
        use stocksync_core::push::{PushRules, pushed_quantity};
        let rules = PushRules { percent, min_threshold, max_visible };
        let q = pushed_quantity(per_fc.iter().copied(), rules);
        let total: i64 = per_fc.iter().map(|&x| x.max(0)).sum();
        prop_assert!(q >= 0);
        prop_assert!(max_visible.is_none_or(|cap| q <= cap));
        prop_assert!(q <= total);
        if total * i64::from(percent.min(100)) / 100 < min_threshold {
            prop_assert_eq!(q, 0);
        }
        prop_assert_eq!(pushed_quantity(per_fc.iter().copied(), PushRules::default()), total);
        let mut more = per_fc.clone();
        if !more.is_empty() {
            let i = bump.0 % more.len();
            more[i] += bump.1;
        }
        prop_assert!(pushed_quantity(more, rules) >= q, "more stock never shows less");
    }

    /// A bundle shows the units the scarcest component can build.
    #[test]
    fn buildable_is_the_scarcest_component(parts in prop::collection::vec((-3i64..=30, 1u32..=4), 1..=4)) {
        use stocksync_core::push::buildable;
        let b = buildable(parts.iter().copied());
        prop_assert!(b >= 0);
        for &(available, per) in &parts {
            prop_assert!(b * i64::from(per) <= available.max(0), "{b} units need {per} each of {available}");
        }
        prop_assert!(parts.iter().any(|&(available, per)| (b + 1) * i64::from(per) > available.max(0)), "not the maximum");
    }
}
