//! Inventory uploads: `sku,fc,available` or `sku,fc,on_hand`, optional
//! `note` (the movement's reason). Each row sets one level, as a manual edit
//! would: a movement with a reason and a reference, a push, and backordered
//! orders allocated if units became available.
//!
//! The check pass runs on reader connections: FCs are loaded once, SKUs are
//! looked up a chunk of rows at a time, and repeated `(sku, fc)` pairs are
//! found through a set of 16-byte keys. The apply pass streams the file
//! again inside one writer job (one transaction) and skips rows that already
//! match, so re-uploading an export writes nothing.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use stocksync_core::books::Level;
use stocksync_core::values::stock_count;
use stocksync_core::workflow::StockTarget;
use stocksync_core::{FcCode, Sku};
use stocksync_store::{BulkJob, SkuKind, Store, StoreError};
use tokio::runtime::Handle;

use super::reader::{Digest, Row, Rows};
use super::{
    Change, Changes, LOOKUP_CHUNK_ROWS, LineError, NOTE_MAX_CHARS, Options, Problems, UploadError, UploadReport,
};

const COLUMNS: &[&str] = &["sku", "fc", "available", "on_hand", "note"];
const EXPECTED: &str = "sku,fc,available or sku,fc,on_hand (and optionally note)";
/// Rows applied between two emptyings of the writer's level cache: each
/// level is set once, so caching it longer only costs memory (~4 MiB here).
const LEVEL_CACHE_ROWS: u64 = 65_536;
/// The movement reason of a row without a note.
const REASON_DEFAULT: &str = "upload";

/// Where each column is, once the header is known.
#[derive(Debug, Clone, Copy)]
struct Cols {
    sku: usize,
    fc: usize,
    qty: usize,
    /// `available` or `on_hand`: which figure the file sets.
    field: &'static str,
    note: Option<usize>,
}

impl Cols {
    fn of(rows: &Rows, problems: &mut Problems) -> Option<Self> {
        let h = &rows.header;
        let (available, on_hand) = (h.position("available"), h.position("on_hand"));
        let mut missing =
            |name: &str| problems.push(LineError::new(h.line, name, format!("is required; expected {EXPECTED}")));
        let (sku, fc) = (h.position("sku"), h.position("fc"));
        if sku.is_none() {
            missing("sku");
        }
        if fc.is_none() {
            missing("fc");
        }
        let qty = match (available, on_hand) {
            (Some(p), None) => Some((p, "available")),
            (None, Some(p)) => Some((p, "on_hand")),
            (None, None) => {
                missing("available");
                None
            }
            (Some(_), Some(_)) => {
                problems.push(LineError::new(h.line, "on_hand", "give available or on_hand, not both"));
                None
            }
        };
        let ((sku, fc), Some((qty, field))) = (sku.zip(fc)?, qty) else { return None };
        Some(Self { sku, fc, qty, field, note: h.position("note") })
    }
}

/// A row whose SKU and FC are well-formed, so that they can be checked
/// against the catalog even when another field is bad (`target` is `None`
/// when the quantity is; every problem went to `problems`).
struct Parsed<'a> {
    line: u64,
    sku: &'a str,
    fc: &'a str,
    target: Option<StockTarget>,
    note: Option<&'a str>,
}

fn parse<'a>(row: &Row<'a>, c: &Cols, problems: &mut Problems) -> Option<Parsed<'a>> {
    let line = row.line;
    let (sku, fc, qty) = (row.get(c.sku), row.get(c.fc), row.get(c.qty));
    let mut named = true;
    if let Err(e) = Sku::parse_field("sku", sku) {
        problems.push(LineError::new(line, "sku", e.message));
        named = false;
    }
    if let Err(e) = FcCode::parse_field("fc", fc) {
        problems.push(LineError::new(line, "fc", e.message));
        named = false;
    }
    let before = problems.total();
    let n = match qty.parse::<i64>() {
        _ if qty.is_empty() => Err("is required".to_owned()),
        Ok(n) => stock_count(c.field, n).map_err(|e| e.message),
        Err(_) => Err(format!("{qty:?} is not a whole number")),
    };
    let n = n.map_err(|m| problems.push(LineError::new(line, c.field, m))).ok();
    let note = c.note.map(|p| row.get(p)).filter(|n| !n.is_empty());
    if let Some(note) = note {
        // A reason may span lines (a quoted field); other control characters are noise.
        if note.chars().any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t')) {
            problems.push(LineError::new(line, "note", "must not contain control characters"));
        } else if note.chars().count() > NOTE_MAX_CHARS {
            problems.push(LineError::new(line, "note", format!("must be at most {NOTE_MAX_CHARS} characters")));
        }
    }
    let target = n.filter(|_| problems.total() == before);
    let target =
        target.map(|n| if c.field == "available" { StockTarget::Available(n) } else { StockTarget::OnHand(n) });
    named.then_some(Parsed { line, sku, fc, target, note })
}

/// What the level's figure goes from and to.
fn from_to(level: Level, target: StockTarget) -> (i64, i64) {
    match target {
        StockTarget::OnHand(n) => (level.on_hand, n),
        StockTarget::Available(n) => (level.available(), n),
    }
}

/// A checked row waiting for its SKU to be looked up.
struct Pending {
    line: u64,
    sku: String,
    fc: String,
    fc_known: bool,
    target: Option<StockTarget>,
}

struct Checked {
    problems: Problems,
    rows: u64,
    digest: Option<Digest>,
    /// The preview of a dry run.
    changes: Changes,
}

pub(super) async fn upload(store: &Store, path: PathBuf, opts: Options) -> Result<UploadReport, UploadError> {
    let fcs: HashSet<String> = store.fcs().await?.into_iter().map(|f| f.code).collect();
    opts.progress.set_message("checking");
    let started = std::time::Instant::now();
    let checked = {
        let (store, path, progress, handle) = (store.clone(), path.clone(), opts.progress.clone(), Handle::current());
        let dry_run = opts.dry_run;
        super::blocking(move || check(&store, &handle, &path, &fcs, dry_run, &progress)).await?
    };
    let Some(digest) = checked.digest.filter(|_| checked.problems.is_empty()) else {
        return Err(UploadError::Invalid(checked.problems));
    };
    tracing::debug!(
        rows = checked.rows,
        duration_ms = started.elapsed().as_millis() as u64,
        "inventory upload checked"
    );
    if opts.dry_run {
        return Ok(checked.changes.report(checked.rows, false, true));
    }
    let started = std::time::Instant::now();
    opts.progress.set_position(0);
    opts.progress.set_message("applying");
    let (outcome, kept) = store
        .write_or_discard(move |s| {
            let applied = apply(s, &path, &digest, &opts.actor, &opts.progress);
            let keep = applied.as_ref().is_ok_and(|(p, _)| p.is_empty());
            applied.map(|a| (a, keep))
        })
        .await?;
    tracing::debug!(
        rows = checked.rows,
        kept,
        duration_ms = started.elapsed().as_millis() as u64,
        "inventory upload applied"
    );
    match outcome {
        (problems, _) if !kept => Err(UploadError::Invalid(problems)),
        (_, changes) => Ok(changes.report(checked.rows, true, false)),
    }
}

fn check(
    store: &Store,
    handle: &Handle,
    path: &Path,
    fcs: &HashSet<String>,
    dry_run: bool,
    progress: &ProgressBar,
) -> Result<Checked, UploadError> {
    let mut problems = Problems::default();
    let mut changes = Changes::default();
    let Some(mut rows) = Rows::open(path, COLUMNS, EXPECTED, progress, &mut problems)? else {
        return Ok(Checked { problems, rows: 0, digest: None, changes });
    };
    let Some(cols) = Cols::of(&rows, &mut problems) else {
        return Ok(Checked { problems, rows: 0, digest: None, changes });
    };
    let mut seen: HashMap<u128, u64> = HashMap::new();
    let mut pending = Vec::with_capacity(LOOKUP_CHUNK_ROWS);
    while let Some(row) = rows.next(&mut problems)? {
        let Some(r) = parse(&row, &cols, &mut problems) else { continue };
        match seen.entry(super::key_of(&[r.sku, r.fc])) {
            Entry::Occupied(first) => {
                let message = format!("{} at {} is repeated: line {} already sets it", r.sku, r.fc, first.get());
                problems.push(LineError::new(r.line, "sku", message));
                continue;
            }
            Entry::Vacant(v) => {
                v.insert(r.line);
            }
        }
        let fc_known = fcs.contains(r.fc);
        if !fc_known {
            problems.push(LineError::new(r.line, "fc", format!("unknown fulfillment center {}", r.fc)));
        }
        pending.push(Pending { line: r.line, sku: r.sku.to_owned(), fc: r.fc.to_owned(), fc_known, target: r.target });
        if pending.len() == LOOKUP_CHUNK_ROWS {
            look_up(store, handle, &mut pending, dry_run, &mut problems, &mut changes)?;
        }
    }
    look_up(store, handle, &mut pending, dry_run, &mut problems, &mut changes)?;
    let count = rows.rows();
    Ok(Checked { problems, rows: count, digest: rows.finish(), changes })
}

/// Checks a chunk of rows' SKUs against the catalog and, for a dry run,
/// previews what each row changes.
fn look_up(
    store: &Store,
    handle: &Handle,
    pending: &mut Vec<Pending>,
    dry_run: bool,
    problems: &mut Problems,
    changes: &mut Changes,
) -> Result<(), UploadError> {
    if pending.is_empty() {
        return Ok(());
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut skus = Vec::new();
    for p in pending.iter() {
        index.entry(p.sku.as_str()).or_insert_with(|| {
            skus.push(p.sku.clone());
            skus.len() - 1
        });
    }
    let kinds = handle.block_on(store.sku_kinds(skus))?;
    let mut previewed = Vec::new();
    for p in pending.iter() {
        let kind = index.get(p.sku.as_str()).and_then(|&i| kinds.get(i)).unwrap_or(&SkuKind::Unknown);
        let message = match kind {
            SkuKind::Stock => {
                if let (true, Some(target)) = (p.fc_known, p.target) {
                    previewed.push((p, target));
                }
                continue;
            }
            SkuKind::Bundle => format!("{} is a bundle; set stock on its components", p.sku),
            SkuKind::AliasOf(of) => format!("{} is an alias of {of}; use the item's SKU", p.sku),
            SkuKind::Unknown => format!("unknown item {}", p.sku),
        };
        problems.push(LineError::new(p.line, "sku", message));
    }
    if dry_run && problems.is_empty() && !previewed.is_empty() {
        let keys = previewed.iter().map(|(p, _)| (p.sku.clone(), p.fc.clone())).collect();
        let levels = handle.block_on(store.levels_of(keys))?;
        for ((p, target), level) in previewed.iter().zip(levels) {
            record(changes, p.line, &p.sku, &p.fc, *target, level);
        }
    }
    pending.clear();
    Ok(())
}

fn record(changes: &mut Changes, line: u64, sku: &str, fc: &str, target: StockTarget, level: Level) {
    let (from, to) = from_to(level, target);
    if from == to {
        changes.unchanged();
        return;
    }
    let field = match target {
        StockTarget::OnHand(_) => "on_hand",
        StockTarget::Available(_) => "available",
    };
    changes.changed(Change::Level { line, sku: sku.into(), fc: fc.into(), field: field.into(), from, to });
}

/// Applies every row, on the writer thread, inside the job's transaction.
/// Returns the problems that forbid committing (none unless the file or
/// the catalog changed since the check) and the changes made.
fn apply(
    s: &mut BulkJob<'_, '_>,
    path: &Path,
    digest: &Digest,
    actor: &str,
    progress: &ProgressBar,
) -> Result<(Problems, Changes), StoreError> {
    let io = |e: UploadError| StoreError::Internal(format!("re-reading the upload: {e}"));
    let mut problems = Problems::default();
    let mut changes = Changes::default();
    let Some(mut rows) = Rows::open(path, COLUMNS, EXPECTED, progress, &mut problems).map_err(io)? else {
        return Ok((problems, changes));
    };
    let Some(cols) = Cols::of(&rows, &mut problems) else { return Ok((problems, changes)) };
    let reference = format!("upload:{}", super::hex(&digest[..8]));
    let mut read = 0u64;
    while let Some(row) = rows.next(&mut problems).map_err(io)? {
        read += 1;
        if read.is_multiple_of(LEVEL_CACHE_ROWS) {
            s.forget_cached_levels()?;
        }
        let Some((r, target)) = parse(&row, &cols, &mut problems).and_then(|r| r.target.map(|t| (r, t))) else {
            continue;
        };
        let level = match s.level(r.sku, r.fc) {
            Ok(level) => level,
            Err(e) => {
                problems.extend(super::rejected(r.line, "sku", e, |f| f)?);
                break;
            }
        };
        let (from, to) = from_to(level, target);
        if from == to {
            changes.unchanged();
            continue;
        }
        let why = r.note.unwrap_or(REASON_DEFAULT);
        if let Err(e) = s.set_stock(r.sku, r.fc, target, Some(why), &reference, actor) {
            problems.extend(super::rejected(r.line, cols.field, e, |f| f)?);
            break;
        }
        record(&mut changes, r.line, r.sku, r.fc, target, level);
    }
    if problems.is_empty() && rows.finish() != Some(*digest) {
        problems.push(LineError::new(1, "*", "the file changed while it was being uploaded; nothing was applied"));
    }
    Ok((problems, changes))
}
