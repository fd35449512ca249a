//! The order workflow of PRODUCT.md §2–3, written once over `Books`.
//!
//! Every public function here is one atomic operation: the caller runs it
//! inside one transaction, and on `Err` rolls the transaction back. Stock
//! moves only through `Books::apply_movement`, so each change is a ledger
//! row and marks the affected listings for a push.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::allocation::{Mode, Need, allocate};
use crate::books::{Books, ChannelRules, Level, Movement, QueuePos, reason};
use crate::error::{FieldError, Rejection};
use crate::order::{IncomingLine, IncomingOrder, Line, Order, OrderStatus, SourceStatus};
use crate::time::Timestamp;
use crate::values::{ChannelId, FcId, ItemId, OrderId, STOCK_MAX, stock_count};

/// Who does an operation, and when.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub at: Timestamp,
    pub actor: &'a str,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOutcome {
    pub order: OrderId,
    /// The order was new.
    pub created: bool,
    /// The import changed something (false for a replay or a stale version).
    pub changed: bool,
    pub status: OrderStatus,
}

/// Items whose availability went up during an operation: their backorders get a chance.
type Freed = BTreeSet<ItemId>;

/// Imports one order as the channel reports it: new, edited, cancelled or
/// shipped. Idempotent: the same content again changes nothing, and a
/// version older than the one imported (by `updated_at`) is ignored.
pub fn import_order<B: Books>(b: &mut B, inc: &IncomingOrder, cx: &Ctx<'_>) -> Result<ImportOutcome, B::Error> {
    let rules = b.channel_rules(inc.channel)?;
    if !rules.import_orders {
        return Err(Rejection::Conflict(format!(
            "import_orders is off for channel {}: the order was not imported",
            rules.name
        ))
        .into());
    }
    let mut freed = Freed::new();
    let mut outcome = match b.find_order(inc.channel, &inc.external_id)? {
        None => create(b, inc, &rules, cx)?,
        Some(mut o) => update(b, &mut o, inc, &rules, cx, &mut freed)?,
    };
    reallocate_backorders(b, &freed, cx)?;
    // The units this import released may have gone to the order's own backorders.
    if !freed.is_empty()
        && let Some(o) = b.load_order(outcome.order)?
    {
        outcome.status = o.status;
    }
    Ok(outcome)
}

fn create<B: Books>(
    b: &mut B,
    inc: &IncomingOrder,
    rules: &ChannelRules,
    cx: &Ctx<'_>,
) -> Result<ImportOutcome, B::Error> {
    let id = b.new_order_id()?;
    let mut o = Order {
        id,
        is_new: true,
        channel: inc.channel,
        external_id: inc.external_id.clone(),
        status: OrderStatus::Allocated,
        source_status: inc.status,
        placed_at: inc.placed_at,
        source_updated_at: inc.updated_at,
        imported_at: cx.at,
        updated_at: cx.at,
        lines: Vec::with_capacity(inc.lines.len()),
        new_trace: vec![format!(
            "imported from {} as {} with {} line(s)",
            rules.name,
            inc.status.as_str(),
            inc.lines.len()
        )],
    };
    for il in &inc.lines {
        let line = resolve_line(b, &mut o, il)?;
        o.lines.push(line);
    }
    if inc.status == SourceStatus::Cancelled {
        o.lines.iter_mut().for_each(|l| l.backordered = 0);
        o.status = OrderStatus::Cancelled;
    } else {
        let all: Vec<usize> = (0..o.lines.len()).collect();
        allocate_lines(b, &mut o, rules, &all, true, cx)?;
        o.status = o.derived_status();
        if inc.status == SourceStatus::Shipped {
            ship_all(b, &mut o, cx)?;
        }
    }
    b.save_order(&mut o)?;
    Ok(ImportOutcome { order: id, created: true, changed: true, status: o.status })
}

fn update<B: Books>(
    b: &mut B,
    o: &mut Order,
    inc: &IncomingOrder,
    rules: &ChannelRules,
    cx: &Ctx<'_>,
    freed: &mut Freed,
) -> Result<ImportOutcome, B::Error> {
    let unchanged = ImportOutcome { order: o.id, created: false, changed: false, status: o.status };
    if let (Some(new), Some(old)) = (inc.updated_at, o.source_updated_at)
        && new < old
    {
        return Ok(unchanged);
    }
    if o.same_content(inc) {
        // Remember the newer version time, so that a late intermediate
        // version cannot undo this one.
        if inc.updated_at > o.source_updated_at {
            o.source_updated_at = inc.updated_at;
            b.save_order(o)?;
        }
        return Ok(unchanged);
    }
    o.source_updated_at = inc.updated_at.max(o.source_updated_at);
    o.updated_at = cx.at;
    let previous = o.source_status;
    o.source_status = inc.status;
    o.new_trace.push(format!("channel update: {} with {} line(s)", inc.status.as_str(), inc.lines.len()));
    match o.status {
        OrderStatus::Shipped => {
            diff_lines(b, o, inc, rules, cx, freed, false)?;
            o.new_trace.push("the order has shipped: stock unchanged".to_owned());
        }
        OrderStatus::Cancelled => {
            diff_lines(b, o, inc, rules, cx, freed, false)?;
            if previous == SourceStatus::Cancelled && inc.status != SourceStatus::Cancelled {
                o.new_trace.push("reopened by the channel".to_owned());
                o.status = OrderStatus::Allocated;
                for l in o.lines.iter_mut().filter(|l| !l.removed) {
                    l.backordered = l.quantity;
                    l.dirty = true;
                }
                let all: Vec<usize> = (0..o.lines.len()).filter(|&i| !o.lines[i].removed).collect();
                allocate_lines(b, o, rules, &all, true, cx)?;
                o.status = o.derived_status();
                if inc.status == SourceStatus::Shipped {
                    ship_all(b, o, cx)?;
                }
            } else {
                o.new_trace.push("the order stays cancelled: stock unchanged".to_owned());
            }
        }
        _ => {
            let changed = diff_lines(b, o, inc, rules, cx, freed, true)?;
            allocate_lines(b, o, rules, &changed, false, cx)?;
            match inc.status {
                SourceStatus::Cancelled => cancel_all(b, o, cx, freed)?,
                SourceStatus::Shipped => {
                    o.status = o.derived_status();
                    ship_all(b, o, cx)?;
                }
                SourceStatus::Open => o.status = o.derived_status(),
            }
        }
    }
    b.save_order(o)?;
    Ok(ImportOutcome { order: o.id, created: false, changed: true, status: o.status })
}

/// Brings the lines to what the channel reports. With `effects`, removed and
/// reduced lines release stock; returns the lines that need allocation.
fn diff_lines<B: Books>(
    b: &mut B,
    o: &mut Order,
    inc: &IncomingOrder,
    rules: &ChannelRules,
    cx: &Ctx<'_>,
    freed: &mut Freed,
    effects: bool,
) -> Result<Vec<usize>, B::Error> {
    let reference = o.reference();
    let mut to_allocate = Vec::new();
    for i in 0..o.lines.len() {
        let line = &mut o.lines[i];
        if line.removed || inc.lines.iter().any(|il| il.line_id == line.line_id) {
            continue;
        }
        if effects {
            let units = line.allocated_units();
            release(b, &reference, line, units, rules, cx, freed, reason::RELEASED)?;
        }
        line.backordered = 0;
        line.removed = true;
        line.dirty = true;
        o.new_trace.push(format!("line {} ({}) removed by the channel", i + 1, line.channel_sku));
    }
    for il in &inc.lines {
        let Some(i) = o.lines.iter().position(|l| l.line_id == il.line_id) else {
            let line = resolve_line(b, o, il)?;
            if !effects {
                o.lines.push(Line { backordered: 0, ..line });
                continue;
            }
            if line.is_mapped() {
                to_allocate.push(o.lines.len());
            }
            o.lines.push(line);
            continue;
        };
        let line = &mut o.lines[i];
        if !line.removed && line.channel_sku == il.channel_sku {
            let (old, new) = (line.quantity, il.quantity);
            if old == new {
                continue;
            }
            o.new_trace.push(format!("line {} ({}): quantity {old} → {new}", i + 1, line.channel_sku));
            line.quantity = new;
            line.dirty = true;
            if !effects {
                continue;
            }
            if new > old {
                line.backordered += new - old;
                if line.is_mapped() {
                    to_allocate.push(i);
                }
            } else {
                let cut = old - new;
                let from_backorder = cut.min(line.backordered);
                line.backordered -= from_backorder;
                release(b, &reference, line, cut - from_backorder, rules, cx, freed, reason::RELEASED)?;
                // Fewer units left to find: one FC may now cover them (no split).
                if line.backordered > 0 && line.is_mapped() {
                    to_allocate.push(i);
                }
            }
            continue;
        }
        // The line came back, or now names another SKU: start it afresh.
        if effects {
            let units = line.allocated_units();
            release(b, &reference, line, units, rules, cx, freed, reason::RELEASED)?;
        }
        let mut fresh = resolve_line(b, o, il)?;
        let line = &mut o.lines[i];
        fresh.key = line.key;
        fresh.allocs = std::mem::take(&mut line.allocs);
        if !effects {
            fresh.backordered = 0;
        } else if fresh.is_mapped() {
            to_allocate.push(i);
        }
        *line = fresh;
    }
    Ok(to_allocate)
}

/// A new line for `il`, resolved if its channel SKU maps to an item.
fn resolve_line<B: Books>(b: &mut B, o: &mut Order, il: &IncomingLine) -> Result<Line, B::Error> {
    let resolved = b.resolve(o.channel, &il.channel_sku)?;
    let line_no = o.lines.iter().position(|l| l.line_id == il.line_id).unwrap_or(o.lines.len()) + 1;
    if resolved.is_none() {
        o.new_trace.push(format!(
            "line {line_no}: channel SKU {} matches no listing, item or alias: needs attention",
            il.channel_sku
        ));
    }
    let (item, sku, parts) = match resolved {
        Some(r) => (Some(r.item), Some(r.sku), r.parts),
        None => (None, None, Vec::new()),
    };
    Ok(Line {
        key: None,
        line_id: il.line_id.clone(),
        channel_sku: il.channel_sku.clone(),
        item,
        sku,
        parts,
        quantity: il.quantity,
        backordered: il.quantity,
        removed: false,
        allocs: Vec::new(),
        dirty: true,
    })
}

/// Runs the allocation rule over the backordered units of lines `idxs` and
/// commits what it decides.
fn allocate_lines<B: Books>(
    b: &mut B,
    o: &mut Order,
    rules: &ChannelRules,
    idxs: &[usize],
    whole_order_first: bool,
    cx: &Ctx<'_>,
) -> Result<bool, B::Error> {
    let idxs: Vec<usize> =
        idxs.iter().copied().filter(|&i| o.lines[i].is_mapped() && o.lines[i].backordered > 0).collect();
    if idxs.is_empty() {
        return Ok(false);
    }
    let mut stock: HashMap<(ItemId, FcId), i64> = HashMap::new();
    for &i in &idxs {
        for p in &o.lines[i].parts {
            for fc in &rules.fcs {
                if let std::collections::hash_map::Entry::Vacant(e) = stock.entry((p.item, fc.id)) {
                    e.insert(b.level(p.item, fc.id)?.available());
                }
            }
        }
    }
    let plan = {
        let needs: Vec<Need<'_>> = idxs
            .iter()
            .map(|&i| {
                let l = &o.lines[i];
                Need {
                    line_no: i + 1,
                    label: l.sku.as_ref().map_or(&l.channel_sku, |s| s.as_str()),
                    parts: &l.parts,
                    units: l.backordered,
                }
            })
            .collect();
        allocate(&needs, &rules.fcs, &stock, Mode { whole_order_first, allow_split: rules.allow_split })
    };
    o.new_trace.extend(plan.trace);
    let reference = o.reference();
    let mut any = false;
    for (lp, &i) in plan.lines.iter().zip(&idxs) {
        let line = &mut o.lines[i];
        for &(fc_idx, units) in &lp.takes {
            let fc = rules.fcs[fc_idx].id;
            for p in line.parts.clone() {
                let quantity = i64::from(units) * i64::from(p.per_unit);
                let m = Movement {
                    item: p.item,
                    fc,
                    on_hand_delta: 0,
                    committed_delta: quantity,
                    reason: reason::ALLOCATED,
                    reference: &reference,
                    actor: cx.actor,
                    at: cx.at,
                };
                b.apply_movement(&m)?;
                match line.allocs.iter_mut().find(|a| !a.shipped && a.fc == fc && a.item == p.item) {
                    Some(a) => a.quantity += quantity,
                    None => line.allocs.push(crate::order::Alloc { fc, item: p.item, quantity, shipped: false }),
                }
            }
            line.backordered -= units;
            line.dirty = true;
            any = true;
        }
    }
    Ok(any)
}

/// Releases `units` line units, from the lowest-priority FC first.
#[expect(clippy::too_many_arguments, reason = "one call site per kind of release; a struct would only rename them")]
fn release<B: Books>(
    b: &mut B,
    reference: &str,
    line: &mut Line,
    units: u32,
    rules: &ChannelRules,
    cx: &Ctx<'_>,
    freed: &mut Freed,
    why: &str,
) -> Result<(), B::Error> {
    let rank = |fc: FcId| rules.fcs.iter().position(|f| f.id == fc).unwrap_or(usize::MAX);
    let mut fcs = line.open_fcs();
    fcs.sort_by_key(|&fc| std::cmp::Reverse(rank(fc)));
    let mut left = units;
    for fc in fcs {
        if left == 0 {
            break;
        }
        let u = line.units_at(fc).min(left);
        release_at(b, reference, line, fc, u, cx, freed, why)?;
        left -= u;
    }
    Ok(())
}

#[expect(clippy::too_many_arguments, reason = "mirrors release(); see there")]
fn release_at<B: Books>(
    b: &mut B,
    reference: &str,
    line: &mut Line,
    fc: FcId,
    units: u32,
    cx: &Ctx<'_>,
    freed: &mut Freed,
    why: &str,
) -> Result<(), B::Error> {
    if units == 0 {
        return Ok(());
    }
    for p in line.parts.clone() {
        let quantity = i64::from(units) * i64::from(p.per_unit);
        b.apply_movement(&Movement {
            item: p.item,
            fc,
            on_hand_delta: 0,
            committed_delta: -quantity,
            reason: why,
            reference,
            actor: cx.actor,
            at: cx.at,
        })?;
        if let Some(a) = line.allocs.iter_mut().find(|a| !a.shipped && a.fc == fc && a.item == p.item) {
            a.quantity -= quantity;
        }
        freed.insert(p.item);
    }
    line.allocs.retain(|a| a.shipped || a.quantity > 0);
    line.dirty = true;
    Ok(())
}

fn ship_all<B: Books>(b: &mut B, o: &mut Order, cx: &Ctx<'_>) -> Result<(), B::Error> {
    let reference = o.reference();
    for (i, line) in o.lines.iter_mut().enumerate() {
        for a in line.allocs.iter_mut().filter(|a| !a.shipped) {
            b.apply_movement(&Movement {
                item: a.item,
                fc: a.fc,
                on_hand_delta: -a.quantity,
                committed_delta: -a.quantity,
                reason: reason::SHIPPED,
                reference: &reference,
                actor: cx.actor,
                at: cx.at,
            })?;
            a.shipped = true;
            line.dirty = true;
        }
        if line.backordered > 0 && !line.removed {
            o.new_trace.push(format!(
                "line {} ({}): {} unit(s) shipped that were never allocated here",
                i + 1,
                line.channel_sku,
                line.backordered
            ));
            line.backordered = 0;
            line.dirty = true;
        }
    }
    o.status = OrderStatus::Shipped;
    o.new_trace.push("shipped".to_owned());
    Ok(())
}

fn cancel_all<B: Books>(b: &mut B, o: &mut Order, cx: &Ctx<'_>, freed: &mut Freed) -> Result<(), B::Error> {
    let reference = o.reference();
    for line in &mut o.lines {
        for fc in line.open_fcs() {
            let units = line.units_at(fc);
            release_at(b, &reference, line, fc, units, cx, freed, reason::RELEASED)?;
        }
        if line.backordered > 0 {
            line.backordered = 0;
            line.dirty = true;
        }
    }
    o.status = OrderStatus::Cancelled;
    o.new_trace.push("cancelled: allocations released".to_owned());
    Ok(())
}

/// Cancels an order from stocksync (not from its channel).
pub fn cancel_order<B: Books>(b: &mut B, id: OrderId, cx: &Ctx<'_>) -> Result<Order, B::Error> {
    let mut o = load_open(b, id)?;
    let mut freed = Freed::new();
    o.updated_at = cx.at;
    o.new_trace.push(format!("cancel requested by {}", cx.actor));
    cancel_all(b, &mut o, cx, &mut freed)?;
    b.save_order(&mut o)?;
    reallocate_backorders(b, &freed, cx)?;
    Ok(o)
}

/// Ships an order's allocated units from stocksync.
pub fn ship_order<B: Books>(b: &mut B, id: OrderId, cx: &Ctx<'_>) -> Result<Order, B::Error> {
    let mut o = load_open(b, id)?;
    o.updated_at = cx.at;
    o.new_trace.push(format!("shipment recorded by {}", cx.actor));
    ship_all(b, &mut o, cx)?;
    b.save_order(&mut o)?;
    Ok(o)
}

fn load_open<B: Books>(b: &mut B, id: OrderId) -> Result<Order, B::Error> {
    let o = b.load_order(id)?.ok_or_else(|| Rejection::NotFound(format!("no order {}", id.0)))?;
    if o.status.is_terminal() {
        return Err(Rejection::Conflict(format!("order {} is already {}", id.0, o.status.as_str())).into());
    }
    Ok(o)
}

/// Gives backordered lines that need any of `freed` a chance at the stock,
/// oldest order first, until those items run out.
fn reallocate_backorders<B: Books>(b: &mut B, freed: &Freed, cx: &Ctx<'_>) -> Result<(), B::Error> {
    let mut cursors: Vec<(ItemId, Option<QueuePos>)> = freed.iter().map(|&i| (i, None)).collect();
    let mut seen: HashSet<OrderId> = HashSet::new();
    loop {
        let mut best: Option<(QueuePos, usize)> = None;
        for (k, (item, cursor)) in cursors.iter().enumerate() {
            if b.total_available(*item)? <= 0 {
                continue;
            }
            if let Some(head) = b.next_backordered(*item, *cursor)?
                && best.is_none_or(|(h, _)| head < h)
            {
                best = Some((head, k));
            }
        }
        let Some((head, k)) = best else { return Ok(()) };
        cursors[k].1 = Some(head);
        if !seen.insert(head.1) {
            continue;
        }
        let Some(mut o) = b.load_order(head.1)? else { continue };
        let rules = b.channel_rules(o.channel)?;
        let idxs: Vec<usize> =
            (0..o.lines.len()).filter(|&i| !o.lines[i].removed && o.lines[i].backordered > 0).collect();
        let trace_len = o.new_trace.len();
        o.new_trace.push("stock arrived: allocating backordered units".to_owned());
        if allocate_lines(b, &mut o, &rules, &idxs, false, cx)? {
            o.status = o.derived_status();
            o.updated_at = cx.at;
            b.save_order(&mut o)?;
        } else {
            o.new_trace.truncate(trace_len);
        }
    }
}

/// After a mapping appears for `channel_sku` (a listing on `channel`, or an
/// item or alias for every channel), maps and allocates the open orders'
/// unmapped lines. Returns how many orders changed.
pub fn map_channel_sku<B: Books>(
    b: &mut B,
    channel: Option<ChannelId>,
    channel_sku: &str,
    cx: &Ctx<'_>,
) -> Result<usize, B::Error> {
    let mut changed = 0;
    for id in b.unmapped_orders(channel, channel_sku)? {
        let Some(mut o) = b.load_order(id)? else { continue };
        if o.status.is_terminal() {
            continue;
        }
        let mut idxs = Vec::new();
        for i in 0..o.lines.len() {
            let l = &o.lines[i];
            if l.removed || l.is_mapped() || l.channel_sku != channel_sku {
                continue;
            }
            if let Some(r) = b.resolve(o.channel, channel_sku)? {
                o.new_trace.push(format!("line {}: channel SKU {channel_sku} now maps to {}", i + 1, r.sku));
                let l = &mut o.lines[i];
                (l.item, l.sku, l.parts, l.dirty) = (Some(r.item), Some(r.sku), r.parts, true);
                idxs.push(i);
            }
        }
        if idxs.is_empty() {
            continue;
        }
        let rules = b.channel_rules(o.channel)?;
        allocate_lines(b, &mut o, &rules, &idxs, false, cx)?;
        o.status = o.derived_status();
        o.updated_at = cx.at;
        b.save_order(&mut o)?;
        changed += 1;
    }
    Ok(changed)
}

/// A new stock level, as a count of one of its two figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockTarget {
    /// Physical units.
    OnHand(i64),
    /// Units free to sell: `on_hand` becomes `committed + n`.
    Available(i64),
}

/// Sets a level (a manual edit, an upload row, an imported quantity).
/// Setting `on_hand` below `committed` is a counting correction.
pub fn set_stock<B: Books>(
    b: &mut B,
    sku: &str,
    fc: &str,
    target: StockTarget,
    why: Option<&str>,
    reference: &str,
    cx: &Ctx<'_>,
) -> Result<Level, B::Error> {
    // A negative `available` is bad input, even where `committed + n` would be a valid on_hand.
    if let StockTarget::Available(n) = target {
        stock_count("available", n).map_err(Rejection::from)?;
    }
    let item = b.stock_item(sku)?;
    let fc = b.fc(fc)?.id;
    let level = b.level(item, fc)?;
    let (field, on_hand) = match target {
        StockTarget::OnHand(n) => ("on_hand", n),
        StockTarget::Available(n) => ("available", level.committed.saturating_add(n)),
    };
    if !(0..=STOCK_MAX).contains(&on_hand) {
        return Err(Rejection::from(FieldError::new(
            field,
            format!("on_hand would be {on_hand}; it must be within 0..={STOCK_MAX}"),
        ))
        .into());
    }
    correct(b, item, fc, on_hand, why.unwrap_or(reason::SET), reference, cx)
}

/// Adds `delta` to `on_hand` (negative for a loss).
pub fn adjust_stock<B: Books>(
    b: &mut B,
    sku: &str,
    fc: &str,
    delta: i64,
    why: Option<&str>,
    reference: &str,
    cx: &Ctx<'_>,
) -> Result<Level, B::Error> {
    let item = b.stock_item(sku)?;
    let fc = b.fc(fc)?.id;
    let level = b.level(item, fc)?;
    let on_hand = level.on_hand.saturating_add(delta);
    if on_hand < 0 {
        let msg = format!("on_hand would go below 0 (on_hand {}, delta {delta})", level.on_hand);
        return Err(Rejection::from(FieldError::new("delta", msg)).into());
    }
    if on_hand > STOCK_MAX {
        return Err(Rejection::from(FieldError::new("delta", format!("on_hand would exceed {STOCK_MAX}"))).into());
    }
    correct(b, item, fc, on_hand, why.unwrap_or(reason::ADJUSTED), reference, cx)
}

fn correct<B: Books>(
    b: &mut B,
    item: ItemId,
    fc: FcId,
    on_hand: i64,
    why: &str,
    reference: &str,
    cx: &Ctx<'_>,
) -> Result<Level, B::Error> {
    let mut freed = Freed::new();
    let level = b.level(item, fc)?;
    let mut released = Vec::new();
    let mut excess = level.committed - on_hand;
    if excess > 0 {
        for id in b.orders_holding(item, fc)? {
            if excess <= 0 {
                break;
            }
            let Some(mut o) = b.load_order(id)? else { continue };
            let rules = b.channel_rules(o.channel)?;
            let reference = o.reference();
            let mut gave_up = false;
            for i in (0..o.lines.len()).rev() {
                let line = &mut o.lines[i];
                let Some(per) = line.parts.iter().find(|p| p.item == item).map(|p| i64::from(p.per_unit)) else {
                    continue;
                };
                let held = i64::from(line.units_at(fc));
                if held == 0 || excess <= 0 {
                    continue;
                }
                let units = held.min((excess + per - 1) / per) as u32;
                release_at(b, &reference, line, fc, units, cx, &mut freed, reason::CORRECTION)?;
                line.backordered += units;
                excess -= i64::from(units) * per;
                gave_up = true;
                o.new_trace.push(format!("counting correction: released {units} unit(s) of line {}", i + 1));
            }
            // `orders_holding` may name orders that no longer hold units here.
            if !gave_up {
                continue;
            }
            o.status = o.derived_status();
            o.updated_at = cx.at;
            b.save_order(&mut o)?;
            released.push((id, rules));
        }
    }
    let level = b.level(item, fc)?;
    let delta = on_hand - level.on_hand;
    if delta != 0 {
        let m = Movement {
            item,
            fc,
            on_hand_delta: delta,
            committed_delta: 0,
            reason: why,
            reference,
            actor: cx.actor,
            at: cx.at,
        };
        b.apply_movement(&m)?;
    }
    if delta > 0 {
        freed.insert(item);
    }
    // Orders that lost units get them from another FC if one has them,
    // oldest first (`released` is newest first).
    for (id, rules) in released.into_iter().rev() {
        let Some(mut o) = b.load_order(id)? else { continue };
        let idxs: Vec<usize> =
            (0..o.lines.len()).filter(|&i| !o.lines[i].removed && o.lines[i].backordered > 0).collect();
        if allocate_lines(b, &mut o, &rules, &idxs, false, cx)? {
            o.status = o.derived_status();
            b.save_order(&mut o)?;
        }
    }
    reallocate_backorders(b, &freed, cx)?;
    b.level(item, fc)
}
