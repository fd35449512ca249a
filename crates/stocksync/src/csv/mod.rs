//! The CSV formats of PRODUCT.md §6, streamed in and out.
//!
//! - `reader`: one pass over a file: BOM, CRLF, quotes, blank lines, the
//!   header, field counts, UTF-8, line numbers; hashes and counts the bytes.
//! - `inventory`, `items`, `listings`: one module per upload format.
//! - `export`: the same formats out, page by page.
//!
//! An upload is a file on disk (the HTTP API spools the body first) read
//! twice. The first pass checks every row and keeps only what checking needs
//! (a hash per key seen, a chunk of rows waiting for a batch lookup), so
//! memory does not grow with the file. If any row is bad, every problem is
//! reported as `line N, column C: message` and nothing is applied. The
//! second pass applies the file in one writer job: one transaction, all or
//! nothing. Line numbers are physical lines of the file (the header is
//! usually line 1; a quoted field with a newline spans two).

mod export;
mod inventory;
mod items;
mod listings;
mod reader;

use std::path::PathBuf;

use indicatif::ProgressBar;
use serde::Serialize;
use stocksync_store::{Store, StoreError};
use utoipa::ToSchema;

pub use export::Export;

/// Most problems one answer lists; the total is always given. A binary file
/// can have a problem on every line, and the answer must stay small.
pub const ERRORS_LISTED_MAX: usize = 1000;
/// Most changes one answer lists; the counts cover every row.
pub const CHANGES_LISTED_MAX: usize = 1000;
/// Rows checked against the database together, in one reader job.
const LOOKUP_CHUNK_ROWS: usize = 4096;
/// Longest record, in bytes (about: the reader reads ahead 8 KiB). Far
/// above any real row (an item with 50 components and 50 aliases is ~10
/// KiB); a longer one is a quote left open or a file that is not CSV, and
/// reading it whole would hold it in memory.
pub const RECORD_MAX_BYTES: u64 = 1 << 20;
/// Longest `note`, in characters (it becomes a movement's reason).
const NOTE_MAX_CHARS: usize = 500;

/// The three upload and export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `sku,fc,available` or `sku,fc,on_hand`, optional `note`.
    Inventory,
    /// `sku,title,kind,components,aliases`.
    Items,
    /// `channel,channel_sku,sku,external_id`.
    Listings,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inventory => "inventory",
            Self::Items => "items",
            Self::Listings => "listings",
        }
    }
}

/// One problem with one field of one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: u64,
    /// The column's name; its 1-based position for a field with no name in
    /// the header; `*` for a problem with the whole line.
    pub column: String,
    pub message: String,
}

impl LineError {
    pub fn new(line: u64, column: impl Into<String>, message: impl Into<String>) -> Self {
        Self { line, column: column.into(), message: message.into() }
    }
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
    }
}

/// Every problem found; the `ERRORS_LISTED_MAX` with the lowest line
/// numbers are kept, in line order (rows are checked in chunks, so problems
/// are not found strictly in line order).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Problems {
    listed: Vec<LineError>,
    total: u64,
}

impl Problems {
    pub fn push(&mut self, e: LineError) {
        self.total += 1;
        self.keep(e);
    }

    fn keep(&mut self, e: LineError) {
        let full = self.listed.len() >= ERRORS_LISTED_MAX;
        if full && self.listed.last().is_some_and(|last| last.line <= e.line) {
            return;
        }
        let at = self.listed.partition_point(|x| x.line <= e.line);
        self.listed.insert(at, e);
        if full {
            self.listed.pop();
        }
    }

    pub fn extend(&mut self, es: impl IntoIterator<Item = LineError>) {
        es.into_iter().for_each(|e| self.push(e));
    }

    /// Adds `other`'s problems.
    pub fn merge(&mut self, other: Problems) {
        self.total += other.total;
        other.listed.into_iter().for_each(|e| self.keep(e));
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many problems there are in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The listed problems, by line.
    pub fn listed(&self) -> &[LineError] {
        &self.listed
    }
}

/// What one row changes, as reported back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Change {
    /// An inventory row: `field` (`available` or `on_hand`) goes from `from` to `to`.
    Level { line: u64, sku: String, fc: String, field: String, from: i64, to: i64 },
    /// An items row: `action` is `created` or `updated`.
    Item { line: u64, sku: String, action: String },
    /// A listings row: `action` is `created` or `updated`.
    Listing { line: u64, channel: String, channel_sku: String, action: String },
}

/// Changes counted, the first `CHANGES_LISTED_MAX` kept.
#[derive(Debug, Default, Clone)]
struct Changes {
    listed: Vec<Change>,
    changed: u64,
    unchanged: u64,
}

impl Changes {
    fn changed(&mut self, c: Change) {
        self.changed += 1;
        if self.listed.len() < CHANGES_LISTED_MAX {
            self.listed.push(c);
        }
    }

    fn unchanged(&mut self) {
        self.unchanged += 1;
    }

    fn report(mut self, rows: u64, applied: bool, dry_run: bool) -> UploadReport {
        self.listed.sort_by_key(|c| match c {
            Change::Level { line, .. } | Change::Item { line, .. } | Change::Listing { line, .. } => *line,
        });
        UploadReport {
            rows,
            applied,
            dry_run,
            changed: self.changed,
            unchanged: self.unchanged,
            changes_truncated: self.changed > self.listed.len() as u64,
            changes: self.listed,
        }
    }
}

/// The answer to an upload that had no bad row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadReport {
    /// Data rows in the file (blank lines are not rows).
    pub rows: u64,
    /// The changes were committed (false for a dry run).
    pub applied: bool,
    pub dry_run: bool,
    /// Rows that change something.
    pub changed: u64,
    /// Rows that already match the database.
    pub unchanged: u64,
    /// What the rows change, by line; at most 1,000 entries (see `changes_truncated`).
    pub changes: Vec<Change>,
    /// True when `changes` lists only the first 1,000 of `changed`.
    pub changes_truncated: bool,
}

/// Why an upload applied nothing.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Bad rows: every problem, as `line N, column C: message`.
    #[error("{} problem(s) in the file", .0.total())]
    Invalid(Problems),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not read the file: {0}")]
    Io(#[from] std::io::Error),
}

impl UploadError {
    fn internal(message: impl Into<String>) -> Self {
        Self::Store(StoreError::Internal(message.into()))
    }
}

/// How to run an upload.
#[derive(Debug, Clone)]
pub struct Options {
    /// Check and preview only; change nothing.
    pub dry_run: bool,
    /// Who the movements and edits are recorded as.
    pub actor: String,
    /// Advanced by bytes read, once per pass; hidden unless a terminal shows it.
    pub progress: ProgressBar,
}

impl Options {
    pub fn new(actor: impl Into<String>, dry_run: bool) -> Self {
        Self { dry_run, actor: actor.into(), progress: ProgressBar::hidden() }
    }
}

/// Checks the file at `path` in `format` and, unless it has a bad row or
/// this is a dry run, applies it in one transaction. The file must not
/// change while this runs (an upload whose bytes differ between the passes
/// is refused).
pub async fn upload(store: &Store, format: Format, path: PathBuf, opts: Options) -> Result<UploadReport, UploadError> {
    match format {
        Format::Inventory => inventory::upload(store, path, opts).await,
        Format::Items => items::upload(store, path, opts).await,
        Format::Listings => listings::upload(store, path, opts).await,
    }
}

/// Runs a pass over the file on the blocking pool: passes read files and
/// call the store through `Handle::block_on` for their batch lookups.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UploadError> + Send + 'static,
) -> Result<T, UploadError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| UploadError::internal(format!("an upload pass failed: {e}")))?
}

/// A stable 128-bit key for a tuple of strings: a seen-set of these costs
/// 16 bytes per row whatever the strings are, and a collision (2^-64 odds
/// over 2^32 rows) would only report a false repeat.
fn key_of(parts: &[&str]) -> u128 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let d = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    u128::from_le_bytes(k)
}

/// The CSV header of each format, as written by exports.
pub fn header(format: Format) -> &'static [&'static str] {
    match format {
        Format::Inventory => &["sku", "fc", "on_hand"],
        Format::Items => items::COLUMNS,
        Format::Listings => listings::COLUMNS,
    }
}

/// A store error met while applying `line`: a rejection becomes the line's
/// problems (each field mapped to its column by `column_of`, `column` when
/// the rejection names none); anything else fails the upload.
fn rejected(
    line: u64,
    column: &str,
    e: StoreError,
    column_of: impl Fn(&str) -> &str,
) -> Result<Vec<LineError>, StoreError> {
    use stocksync_core::Rejection;
    match e {
        StoreError::Rejected(Rejection::Invalid(fields)) => Ok(fields
            .into_iter()
            .map(|f| {
                let col = column_of(&f.field);
                let col = if col.is_empty() { column } else { col };
                let message = if f.field == col || f.field.is_empty() {
                    f.message
                } else {
                    format!("{}: {}", f.field, f.message)
                };
                LineError::new(line, col, message)
            })
            .collect()),
        StoreError::Rejected(Rejection::NotFound(m) | Rejection::Conflict(m)) => {
            Ok(vec![LineError::new(line, column, m)])
        }
        other => Err(other),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
