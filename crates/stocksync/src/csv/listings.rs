//! Listings uploads: `channel,channel_sku,sku,external_id`, where `channel`
//! is a channel's id or name. A row creates the listing, or updates the
//! existing `(channel, channel_sku)` listing's SKU and external id; an empty
//! `sku` or `external_id` keeps an existing listing's value (a new listing
//! without a SKU maps itself as an order line would: by SKU, else alias).
//!
//! The check pass resolves channels (all loaded once) and finds repeated
//! `(channel, channel_sku)` pairs; whether each SKU exists is checked by
//! applying the rows in one writer job, rolled back if any row fails.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indicatif::ProgressBar;
use stocksync_core::values::external_id;
use stocksync_core::{ChannelId, Sku};
use stocksync_store::{BulkJob, ListingUpsert, RowAction, Store, StoreError};

use super::reader::{Digest, Row, Rows};
use super::{Change, Changes, LineError, Options, Problems, UploadError, UploadReport};

pub(super) const COLUMNS: &[&str] = &["channel", "channel_sku", "sku", "external_id"];
const EXPECTED: &str = "channel,channel_sku,sku,external_id";

/// Every channel, by name and by id (as written in a file).
#[derive(Debug, Default)]
struct Channels {
    by_name: HashMap<String, (i64, String)>,
    by_id: HashMap<String, (i64, String)>,
}

impl Channels {
    async fn load(store: &Store) -> Result<Self, StoreError> {
        let mut out = Self::default();
        for c in store.channels().await? {
            out.by_id.insert(c.id.to_string(), (c.id, c.name.clone()));
            out.by_name.insert(c.name.clone(), (c.id, c.name));
        }
        Ok(out)
    }

    /// A name wins over an id: a channel may be named "2".
    fn find(&self, raw: &str) -> Option<&(i64, String)> {
        self.by_name.get(raw).or_else(|| self.by_id.get(raw))
    }
}

#[derive(Debug, Clone, Copy)]
struct Cols {
    channel: usize,
    channel_sku: usize,
    sku: Option<usize>,
    external_id: Option<usize>,
}

impl Cols {
    fn of(rows: &Rows, problems: &mut Problems) -> Option<Self> {
        let h = &rows.header;
        let (channel, channel_sku) = (h.position("channel"), h.position("channel_sku"));
        for (name, pos) in [("channel", channel), ("channel_sku", channel_sku)] {
            if pos.is_none() {
                problems.push(LineError::new(h.line, name, format!("is required; expected {EXPECTED}")));
            }
        }
        let (channel, channel_sku) = channel.zip(channel_sku)?;
        Some(Self { channel, channel_sku, sku: h.position("sku"), external_id: h.position("external_id") })
    }
}

/// A row ready to upsert, with its channel's name for the report.
struct Parsed {
    channel_name: String,
    upsert: ListingUpsert,
}

fn parse(row: &Row<'_>, c: &Cols, channels: &Channels, problems: &mut Problems) -> Option<Parsed> {
    let line = row.line;
    let before = problems.total();
    let channel = row.get(c.channel);
    let found = channels.find(channel);
    if found.is_none() {
        let message = if channel.is_empty() { "is required".to_owned() } else { format!("unknown channel {channel}") };
        problems.push(LineError::new(line, "channel", message));
    }
    let channel_sku = row.get(c.channel_sku);
    if let Err(e) = Sku::parse_field("channel_sku", channel_sku) {
        problems.push(LineError::new(line, "channel_sku", e.message));
    }
    let sku = c.sku.map(|p| row.get(p)).filter(|s| !s.is_empty());
    if let Some(Err(e)) = sku.map(|s| Sku::parse_field("sku", s)) {
        problems.push(LineError::new(line, "sku", e.message));
    }
    let external = c.external_id.map(|p| row.get(p)).filter(|s| !s.is_empty());
    if let Some(Err(e)) = external.map(|x| external_id("external_id", x)) {
        problems.push(LineError::new(line, "external_id", e.message));
    }
    let (id, name) = found.filter(|_| problems.total() == before)?;
    Some(Parsed {
        channel_name: name.clone(),
        upsert: ListingUpsert {
            channel: ChannelId(*id),
            channel_sku: channel_sku.to_owned(),
            sku: sku.map(str::to_owned),
            external_id: external.map(str::to_owned),
        },
    })
}

/// The line each `(channel, channel_sku)` was first seen on.
#[derive(Debug, Default)]
struct Seen(HashMap<u128, u64>);

impl Seen {
    fn repeat(&mut self, l: &ListingUpsert, line: u64) -> Option<u64> {
        match self.0.entry(super::key_of(&[&l.channel.0.to_string(), &l.channel_sku])) {
            Entry::Occupied(first) => Some(*first.get()),
            Entry::Vacant(v) => {
                v.insert(line);
                None
            }
        }
    }
}

pub(super) async fn upload(store: &Store, path: PathBuf, opts: Options) -> Result<UploadReport, UploadError> {
    let channels = Arc::new(Channels::load(store).await?);
    opts.progress.set_message("checking");
    let (problems, rows, digest) = {
        let (path, progress, channels) = (path.clone(), opts.progress.clone(), channels.clone());
        super::blocking(move || check(&path, &channels, &progress)).await?
    };
    let Some(digest) = digest else { return Err(UploadError::Invalid(problems)) };
    let (clean, dry_run) = (problems.is_empty(), opts.dry_run);
    let ((applied, changes), kept) = store
        .write_or_discard(move |s| {
            let (p, c) = apply(s, &path, &digest, &channels, &opts.actor, &opts.progress)?;
            let keep = clean && p.is_empty() && !dry_run;
            Ok(((p, c), keep))
        })
        .await?;
    let mut all = problems;
    all.merge(applied);
    if !all.is_empty() {
        return Err(UploadError::Invalid(all));
    }
    Ok(changes.report(rows, kept, dry_run))
}

fn check(
    path: &Path,
    channels: &Channels,
    progress: &ProgressBar,
) -> Result<(Problems, u64, Option<Digest>), UploadError> {
    let mut problems = Problems::default();
    let Some(mut rows) = Rows::open(path, COLUMNS, EXPECTED, progress, &mut problems)? else {
        return Ok((problems, 0, None));
    };
    let Some(cols) = Cols::of(&rows, &mut problems) else { return Ok((problems, 0, None)) };
    let mut seen = Seen::default();
    while let Some(row) = rows.next(&mut problems)? {
        if let Some(p) = parse(&row, &cols, channels, &mut problems)
            && let Some(first) = seen.repeat(&p.upsert, row.line)
        {
            let message = format!("{} on {} is repeated: line {first} has it", p.upsert.channel_sku, p.channel_name);
            problems.push(LineError::new(row.line, "channel_sku", message));
        }
    }
    let count = rows.rows();
    Ok((problems, count, rows.finish()))
}

/// Upserts every good row in the job's transaction; collects the problems
/// the catalog finds (an unknown SKU). Rows the check pass rejected are skipped.
fn apply(
    s: &mut BulkJob<'_, '_>,
    path: &Path,
    digest: &Digest,
    channels: &Channels,
    actor: &str,
    progress: &ProgressBar,
) -> Result<(Problems, Changes), StoreError> {
    let io = |e: UploadError| StoreError::Internal(format!("re-reading the upload: {e}"));
    progress.set_position(0);
    progress.set_message("applying");
    let (mut problems, mut ignored, mut changes) = (Problems::default(), Problems::default(), Changes::default());
    let Some(mut rows) = Rows::open(path, COLUMNS, EXPECTED, progress, &mut ignored).map_err(io)? else {
        return Err(StoreError::Internal("the upload's header changed while it was applied".into()));
    };
    let cols = Cols::of(&rows, &mut ignored).ok_or_else(|| StoreError::Internal("the header changed".into()))?;
    let mut seen = Seen::default();
    while let Some(row) = rows.next(&mut ignored).map_err(io)? {
        let Some(p) = parse(&row, &cols, channels, &mut ignored) else { continue };
        if seen.repeat(&p.upsert, row.line).is_some() {
            continue;
        }
        match s.upsert_listing(&p.upsert, actor) {
            Ok(RowAction::Unchanged) => changes.unchanged(),
            Ok(a) => changes.changed(Change::Listing {
                line: row.line,
                channel: p.channel_name,
                channel_sku: p.upsert.channel_sku,
                action: a.as_str().into(),
            }),
            Err(e) => problems.extend(super::rejected(row.line, "channel_sku", e, column_of)?),
        }
    }
    if rows.finish() != Some(*digest) {
        problems.push(LineError::new(1, "*", "the file changed while it was being uploaded; nothing was applied"));
    }
    Ok((problems, changes))
}

/// The column a rejected field belongs to.
fn column_of(field: &str) -> &str {
    if COLUMNS.contains(&field) { field } else { "" }
}
