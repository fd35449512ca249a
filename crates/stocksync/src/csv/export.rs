//! Exports in the upload formats, so that uploading an export changes
//! nothing: inventory as `sku,fc,on_hand`, items as
//! `sku,title,kind,components,aliases` (stock items first, then bundles, so
//! the file also loads into an empty catalog), listings as
//! `channel,channel_sku,sku,external_id` with the channel's name.
//!
//! An `Export` hands out the file a page at a time (keyset pages on reader
//! connections), so the HTTP body and the CLI stream it: memory holds one
//! page, whatever the catalog's size.

use stocksync_store::{Store, StoreError};

use super::{Format, header};

/// Rows per page: one reader job each, ~50 KiB of CSV.
const PAGE_ROWS: usize = 1000;

#[derive(Debug, Clone)]
enum Stage {
    Header,
    Levels(Option<(String, i64)>),
    Items { kind: &'static str, after: Option<String> },
    Listings(Option<(i64, String)>),
    Done,
}

/// A CSV export in progress.
#[derive(Debug, Clone)]
pub struct Export {
    format: Format,
    stage: Stage,
}

impl Export {
    pub fn new(format: Format) -> Self {
        Self { format, stage: Stage::Header }
    }

    /// The next piece of the file (the header first), or `None` at its end.
    pub async fn next_chunk(&mut self, store: &Store) -> Result<Option<Vec<u8>>, StoreError> {
        let mut out = Writer::new();
        let next = match std::mem::replace(&mut self.stage, Stage::Done) {
            Stage::Done => return Ok(None),
            Stage::Header => {
                out.row(header(self.format))?;
                match self.format {
                    Format::Inventory => Stage::Levels(None),
                    Format::Items => Stage::Items { kind: "stock", after: None },
                    Format::Listings => Stage::Listings(None),
                }
            }
            Stage::Levels(after) => {
                let page = store.level_page(after, PAGE_ROWS).await?;
                for l in &page {
                    out.row(&[&l.sku, &l.fc, &l.on_hand.to_string()])?;
                }
                match page.last() {
                    Some(l) if page.len() == PAGE_ROWS => Stage::Levels(Some((l.sku.clone(), l.fc_id))),
                    _ => Stage::Done,
                }
            }
            Stage::Items { kind, after } => {
                let page = store.items(None, Some(kind.to_owned()), after, PAGE_ROWS).await?;
                for i in &page {
                    let components: Vec<String> =
                        i.components.iter().map(|c| format!("{}:{}", c.sku, c.quantity)).collect();
                    out.row(&[&i.sku, &i.title, &i.kind, &components.join("|"), &i.aliases.join("|")])?;
                }
                match page.last() {
                    Some(i) if page.len() == PAGE_ROWS => Stage::Items { kind, after: Some(i.sku.clone()) },
                    _ if kind == "stock" => Stage::Items { kind: "bundle", after: None },
                    _ => Stage::Done,
                }
            }
            Stage::Listings(after) => {
                let page = store.listing_page(after, PAGE_ROWS).await?;
                for l in &page {
                    let (sku, ext) =
                        (l.sku.as_deref().unwrap_or_default(), l.external_id.as_deref().unwrap_or_default());
                    out.row(&[&l.channel, &l.channel_sku, sku, ext])?;
                }
                match page.last() {
                    Some(l) if page.len() == PAGE_ROWS => Stage::Listings(Some((l.channel_id, l.channel_sku.clone()))),
                    _ => Stage::Done,
                }
            }
        };
        self.stage = next;
        out.finish().map(Some)
    }
}

/// CSV text with LF line ends, quoting only where needed.
struct Writer(csv::Writer<Vec<u8>>);

impl Writer {
    fn new() -> Self {
        Self(csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new()))
    }

    fn row(&mut self, fields: &[&str]) -> Result<(), StoreError> {
        self.0.write_record(fields).map_err(|e| StoreError::Internal(format!("writing CSV: {e}")))
    }

    fn finish(self) -> Result<Vec<u8>, StoreError> {
        self.0.into_inner().map_err(|e| StoreError::Internal(format!("writing CSV: {e}")))
    }
}
