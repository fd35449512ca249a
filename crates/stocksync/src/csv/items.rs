//! Items uploads: `sku,title,kind,components,aliases`, components as
//! `A-1:2|B-2:1`, aliases as `X|Y`. A row creates the item or brings an
//! existing one to its values; a column left out of the header keeps each
//! existing item's value (an empty cell in a present column means empty).
//!
//! The check pass reads each row on its own (formats, repeats). The rules
//! that involve the catalog (a component must exist and be a stock item, an
//! alias must be free, ...) are checked by applying the rows inside one
//! writer job: stock items first, then bundles, so a bundle may name
//! components anywhere in the file. Every row is tried, every problem is
//! collected, and the job is rolled back if there is any (or for a dry run).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use stocksync_core::catalog::ItemDraft;
use stocksync_store::{BulkJob, ItemRow, RowAction, Store, StoreError};

use super::reader::{Digest, Row, Rows};
use super::{Change, Changes, LineError, Options, Problems, UploadError, UploadReport};

pub(super) const COLUMNS: &[&str] = &["sku", "title", "kind", "components", "aliases"];
const EXPECTED: &str = "sku,title,kind,components,aliases";

#[derive(Debug, Clone, Copy)]
struct Cols {
    sku: usize,
    kind: usize,
    title: Option<usize>,
    components: Option<usize>,
    aliases: Option<usize>,
}

impl Cols {
    fn of(rows: &Rows, problems: &mut Problems) -> Option<Self> {
        let h = &rows.header;
        let (sku, kind) = (h.position("sku"), h.position("kind"));
        for (name, pos) in [("sku", sku), ("kind", kind)] {
            if pos.is_none() {
                problems.push(LineError::new(h.line, name, format!("is required; expected {EXPECTED}")));
            }
        }
        let (sku, kind) = sku.zip(kind)?;
        Some(Self {
            sku,
            kind,
            title: h.position("title"),
            components: h.position("components"),
            aliases: h.position("aliases"),
        })
    }
}

/// The column a validation field path belongs to: `components[1].sku` → `components`.
fn column_of(field: &str) -> &str {
    let col = field.split(['[', '.']).next().unwrap_or_default();
    if COLUMNS.contains(&col) { col } else { "" }
}

/// `A-1:2|B-2:1` as `(sku, quantity)` pairs; empty entries are skipped.
fn components(raw: &str) -> Result<Vec<(String, i64)>, String> {
    let mut out = Vec::new();
    for entry in raw.split('|').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((sku, qty)) = entry.rsplit_once(':') else {
            return Err(format!(
                "{entry:?} has no quantity; write SKU:QUANTITY entries separated by |, e.g. A-1:2|B-2:1"
            ));
        };
        let qty = qty.trim();
        let n = qty.parse::<i64>().map_err(|_| format!("{entry:?}: the quantity {qty:?} is not a whole number"))?;
        out.push((sku.trim().to_owned(), n));
    }
    Ok(out)
}

fn aliases(raw: &str) -> Vec<String> {
    raw.split('|').map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned).collect()
}

/// The row as an upsert, checked on its own; its problems go to `problems`.
fn parse(row: &Row<'_>, c: &Cols, problems: &mut Problems) -> Option<ItemRow> {
    let line = row.line;
    let comps = match c.components.map(|p| components(row.get(p))).transpose() {
        Ok(list) => list,
        Err(message) => {
            problems.push(LineError::new(line, "components", message));
            return None;
        }
    };
    let item = ItemRow {
        sku: row.get(c.sku).to_owned(),
        kind: row.get(c.kind).to_owned(),
        title: c.title.map(|p| row.get(p).to_owned()),
        components: comps,
        aliases: c.aliases.map(|p| aliases(row.get(p))),
    };
    let draft = ItemDraft {
        sku: item.sku.clone(),
        title: item.title.clone(),
        kind: item.kind.clone(),
        components: item.components.clone().unwrap_or_default(),
        aliases: item.aliases.clone().unwrap_or_default(),
    };
    match draft.validate() {
        Ok(_) => Some(item),
        Err(e) => {
            problems.extend(super::rejected(line, "sku", e.into(), column_of).unwrap_or_default());
            None
        }
    }
}

struct Checked {
    problems: Problems,
    rows: u64,
    digest: Option<Digest>,
}

pub(super) async fn upload(store: &Store, path: PathBuf, opts: Options) -> Result<UploadReport, UploadError> {
    opts.progress.set_message("checking");
    let checked = {
        let (path, progress) = (path.clone(), opts.progress.clone());
        super::blocking(move || check(&path, &progress)).await?
    };
    let Some(digest) = checked.digest else { return Err(UploadError::Invalid(checked.problems)) };
    let (clean, dry_run) = (checked.problems.is_empty(), opts.dry_run);
    let ((problems, changes), kept) = store
        .write_or_discard(move |s| {
            let (problems, changes) = apply(s, &path, &digest, &opts.actor, &opts.progress)?;
            let keep = clean && problems.is_empty() && !dry_run;
            Ok(((problems, changes), keep))
        })
        .await?;
    let mut all = checked.problems;
    all.merge(problems);
    if !all.is_empty() {
        return Err(UploadError::Invalid(all));
    }
    Ok(changes.report(checked.rows, kept, dry_run))
}

fn check(path: &Path, progress: &ProgressBar) -> Result<Checked, UploadError> {
    let mut problems = Problems::default();
    let Some(mut rows) = Rows::open(path, COLUMNS, EXPECTED, progress, &mut problems)? else {
        return Ok(Checked { problems, rows: 0, digest: None });
    };
    let Some(cols) = Cols::of(&rows, &mut problems) else { return Ok(Checked { problems, rows: 0, digest: None }) };
    let mut seen = Seen::default();
    while let Some(row) = rows.next(&mut problems)? {
        if let Some(item) = parse(&row, &cols, &mut problems)
            && let Some(first) = seen.repeat(&item.sku, row.line)
        {
            problems.push(LineError::new(row.line, "sku", format!("{} is repeated: line {first} has it", item.sku)));
        }
    }
    let count = rows.rows();
    Ok(Checked { problems, rows: count, digest: rows.finish() })
}

/// The line each SKU was first seen on, by 16-byte key.
#[derive(Debug, Default)]
struct Seen(HashMap<u128, u64>);

impl Seen {
    /// The earlier line with this SKU, if any; otherwise remembers this one.
    fn repeat(&mut self, sku: &str, line: u64) -> Option<u64> {
        match self.0.entry(super::key_of(&[sku])) {
            Entry::Occupied(first) => Some(*first.get()),
            Entry::Vacant(v) => {
                v.insert(line);
                None
            }
        }
    }
}

/// Upserts every good row, stock items first, then bundles; collects the
/// problems the catalog finds. Rows the check pass rejected are skipped.
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
    for (pass, kind) in [("applying stock items", "stock"), ("applying bundles", "bundle")] {
        progress.set_position(0);
        progress.set_message(pass);
        let mut ignored = Problems::default();
        let Some(mut rows) = Rows::open(path, COLUMNS, EXPECTED, progress, &mut ignored).map_err(io)? else {
            return Err(StoreError::Internal("the upload's header changed while it was applied".into()));
        };
        let cols = Cols::of(&rows, &mut ignored).ok_or_else(|| StoreError::Internal("the header changed".into()))?;
        let mut seen = Seen::default();
        while let Some(row) = rows.next(&mut ignored).map_err(io)? {
            let Some(item) = parse(&row, &cols, &mut ignored) else { continue };
            if seen.repeat(&item.sku, row.line).is_some() || item.kind != kind {
                continue;
            }
            let action = match s.upsert_item(&item, actor) {
                Ok(a) => a,
                Err(e) => {
                    problems.extend(super::rejected(row.line, "sku", e, column_of)?);
                    continue;
                }
            };
            match action {
                RowAction::Unchanged => changes.unchanged(),
                a => changes.changed(Change::Item { line: row.line, sku: item.sku, action: a.as_str().into() }),
            }
        }
        if rows.finish() != Some(*digest) {
            problems.push(LineError::new(1, "*", "the file changed while it was being uploaded; nothing was applied"));
            break;
        }
    }
    Ok((problems, changes))
}
