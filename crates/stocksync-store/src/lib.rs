//! The only crate with SQL: one concrete `Store`.
//!
//! - `sqlite`: the SQLite backend (WAL, `synchronous=FULL`), a single writer
//!   thread with group commit, reader connections, migrations, checks.
//! - `views`: the plain values queries return.
//! - `error`: `StoreError`.
//! - `bulk`: batch lookups, upserts and export pages behind CSV uploads.
//! - `users`: web UI users and sessions; `attention`: what the UI's dashboard and activity show.
//!
//! Every write runs the core workflow (`stocksync_core::workflow`) against
//! `Books` implemented over the open transaction, so backends share one
//! definition of what an operation does.

mod attention;
mod bulk;
pub mod error;
mod resources;
pub mod sqlite;
mod sync;
mod users;
pub mod views;

use std::path::PathBuf;
use std::sync::Arc;

use stocksync_core::auth::Role;
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::order::IncomingOrder;
use stocksync_core::workflow::{self, Ctx, ImportOutcome, StockTarget};
use stocksync_core::{ChannelId, ItemId, OrderId, Timestamp};

pub use error::{Result, StoreError};
pub use sqlite::bulk::{ItemRow, LevelRow, ListingRow, ListingUpsert, RowAction, SkuKind};
pub use sqlite::catalog::{NewChannel, NewListing};
pub use sqlite::edit::{ChannelEdit, ItemPatch};
pub use sqlite::idempotency::IDEMPOTENCY_KEEP_MS;
pub use sqlite::push::{DuePush, PushAnswer, Taken};
pub use sqlite::writer::{Clock, Isolation, Session};
use sqlite::{Readers, read, writer::Writer};
pub use sync::{ImportReport, ListingReport};
use views::{FcView, InventoryView, ItemView, OrderStats, OrderView};

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| Timestamp(sqlite::now_ms()))
}

/// The database behind a `Store`. One variant per backend.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite {
        writer: Writer,
        readers: Readers,
        /// Keeps the checkpointer thread running while any clone of the store lives.
        _alive: Arc<()>,
    },
}

/// The store: cheap to clone, safe to share between tasks.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
}

/// Where the data lives, parsed from a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// Accepts `sqlite://PATH` (and `sqlite:PATH`).
    pub fn parse(url: &str) -> Result<Self> {
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
        match path {
            Some(p) if !p.is_empty() => Ok(Self::Sqlite(PathBuf::from(p))),
            _ => Err(StoreError::BadUrl(url.to_owned())),
        }
    }
}

impl Store {
    /// Opens (creating and migrating if needed) the database at `url`.
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with_clock(url, system_clock())
    }

    /// Opens the database at `url` as `open` does, but only if it already
    /// exists: otherwise returns `StoreError::Missing` and creates nothing.
    /// Commands that read what is there use this, so a mistyped path fails
    /// instead of silently checking a brand-new empty database.
    pub fn open_existing(url: &str) -> Result<Self> {
        match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(path) => {
                if !path
                    .try_exists()
                    .map_err(|e| StoreError::Internal(format!("cannot tell whether {} exists: {e}", path.display())))?
                {
                    return Err(StoreError::Missing(path));
                }
            }
        }
        Self::open(url)
    }

    pub fn open_with_clock(url: &str, clock: Clock) -> Result<Self> {
        match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = sqlite::connect(&path)?;
                sqlite::migrate(&mut conn)?;
                let alive = Arc::new(());
                sqlite::start_checkpointer(path.clone(), Arc::downgrade(&alive))?;
                let writer = Writer::start(conn, clock)?;
                Ok(Self { backend: Backend::Sqlite { writer, readers: Readers::new(path), _alive: alive } })
            }
        }
    }

    /// Applies pending migrations without starting anything; returns the versions applied.
    pub fn migrate(url: &str) -> Result<Vec<i64>> {
        match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(path) => sqlite::migrate(&mut sqlite::connect(&path)?),
        }
    }

    /// Runs `f` in the writer's next transaction (with other jobs: group
    /// commit), in its own savepoint.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Session<'_>) -> Result<T> + Send + 'static,
    {
        self.write_with(Isolation::Savepoint, f).await
    }

    pub async fn write_with<T, F>(&self, isolation: Isolation, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Session<'_>) -> Result<T> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite { writer, .. } => writer.write(isolation, f).await,
        }
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite { readers, .. } => readers.run(f).await,
        }
    }

    pub async fn create_fc(&self, spec: FcSpec) -> Result<()> {
        self.write(move |s| s.create_fc(&spec)).await
    }

    pub async fn create_item(&self, draft: ItemDraft, actor: &str) -> Result<ItemId> {
        let actor = actor.to_owned();
        self.write(move |s| s.create_item(&draft, &actor)).await
    }

    pub async fn create_items(&self, drafts: Vec<ItemDraft>, actor: &str) -> Result<usize> {
        let actor = actor.to_owned();
        self.write(move |s| s.create_items(&drafts, &actor)).await
    }

    pub async fn create_channel(&self, ch: NewChannel) -> Result<ChannelId> {
        self.write(move |s| s.create_channel(&ch)).await
    }

    pub async fn create_listing(&self, channel: ChannelId, listing: NewListing, actor: &str) -> Result<Option<ItemId>> {
        let actor = actor.to_owned();
        self.write(move |s| s.create_listing(channel, &listing, &actor)).await
    }

    /// Creates many listings on one channel in one transaction, all or
    /// nothing; errors name the entry as `[i]`.
    pub async fn create_listings(&self, channel: ChannelId, listings: Vec<NewListing>, actor: &str) -> Result<usize> {
        let actor = actor.to_owned();
        self.write(move |s| {
            for (i, l) in listings.iter().enumerate() {
                s.create_listing(channel, l, &actor).map_err(|e| within(e, i))?;
            }
            Ok(listings.len())
        })
        .await
    }

    /// Imports an order as its channel reports it (idempotent). The import
    /// workflow rejects only before its first write, so it runs without a
    /// savepoint (see `Isolation`).
    pub async fn import_order(&self, order: IncomingOrder, actor: &str) -> Result<ImportOutcome> {
        let actor = actor.to_owned();
        self.write_with(Isolation::RejectsBeforeWriting, move |s| {
            let cx = Ctx { at: s.now, actor: &actor };
            workflow::import_order(s, &order, &cx)
        })
        .await
    }

    pub async fn cancel_order(&self, id: i64, actor: &str) -> Result<()> {
        let actor = actor.to_owned();
        self.write(move |s| {
            let cx = Ctx { at: s.now, actor: &actor };
            workflow::cancel_order(s, OrderId(id), &cx).map(drop)
        })
        .await
    }

    pub async fn ship_order(&self, id: i64, actor: &str) -> Result<()> {
        let actor = actor.to_owned();
        self.write(move |s| {
            let cx = Ctx { at: s.now, actor: &actor };
            workflow::ship_order(s, OrderId(id), &cx).map(drop)
        })
        .await
    }

    /// Sets many levels in one transaction, all or nothing. Each entry is
    /// `(sku, fc, target)`; errors name the entry as `[i]`.
    pub async fn set_stock_many(
        &self,
        rows: Vec<(String, String, StockTarget)>,
        reason: Option<String>,
        reference: String,
        actor: &str,
    ) -> Result<usize> {
        let actor = actor.to_owned();
        self.write(move |s| {
            let cx = Ctx { at: s.now, actor: &actor };
            for (i, (sku, fc, target)) in rows.iter().enumerate() {
                workflow::set_stock(s, sku, fc, *target, reason.as_deref(), &reference, &cx)
                    .map_err(|e| within(e, i))?;
            }
            Ok(rows.len())
        })
        .await
    }

    pub async fn set_stock(
        &self,
        sku: &str,
        fc: &str,
        target: StockTarget,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<stocksync_core::books::Level> {
        let (sku, fc, reason, actor) = (sku.to_owned(), fc.to_owned(), reason.map(str::to_owned), actor.to_owned());
        self.write(move |s| {
            let cx = Ctx { at: s.now, actor: &actor };
            workflow::set_stock(s, &sku, &fc, target, reason.as_deref(), "", &cx)
        })
        .await
    }

    pub async fn adjust_stock(
        &self,
        sku: &str,
        fc: &str,
        delta: i64,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<stocksync_core::books::Level> {
        let (sku, fc, reason, actor) = (sku.to_owned(), fc.to_owned(), reason.map(str::to_owned), actor.to_owned());
        self.write(move |s| {
            let cx = Ctx { at: s.now, actor: &actor };
            workflow::adjust_stock(s, &sku, &fc, delta, reason.as_deref(), "", &cx)
        })
        .await
    }

    pub async fn fcs(&self) -> Result<Vec<FcView>> {
        self.read(read::fcs).await
    }

    pub async fn item(&self, sku: &str) -> Result<Option<ItemView>> {
        let sku = sku.to_owned();
        self.read(move |c| read::item(c, &sku)).await
    }

    pub async fn inventory(&self, sku: &str) -> Result<Option<InventoryView>> {
        let sku = sku.to_owned();
        self.read(move |c| read::inventory(c, &sku)).await
    }

    pub async fn order(&self, id: i64) -> Result<Option<OrderView>> {
        self.read(move |c| read::order(c, id)).await
    }

    /// True when the database holds no fulfillment centers, items, channels
    /// or orders. Every other table hangs off one of these, so this is what
    /// "empty" means to a caller (the benches) that seeds its own catalog and
    /// must not mix it with existing data.
    pub async fn is_empty(&self) -> Result<bool> {
        self.read(read::is_empty).await
    }

    pub async fn stats(&self) -> Result<OrderStats> {
        self.read(read::stats).await
    }

    /// Stores a new API token (only its hash is kept).
    pub async fn create_token(&self, name: &str, role: Role, secret: &str) -> Result<()> {
        let (name, secret) = (name.to_owned(), secret.to_owned());
        self.write(move |s| s.create_token(&name, role, &secret)).await
    }

    /// Makes `name` a token with this role and secret, replacing any token
    /// of that name (the bootstrap token).
    pub async fn put_token(&self, name: &str, role: Role, secret: &str) -> Result<()> {
        let (name, secret) = (name.to_owned(), secret.to_owned());
        self.write(move |s| s.put_token(&name, role, &secret)).await
    }

    pub async fn delete_token(&self, name: &str) -> Result<()> {
        let name = name.to_owned();
        self.write(move |s| s.delete_token(&name)).await
    }

    pub async fn touch_token(&self, name: &str) -> Result<()> {
        let name = name.to_owned();
        self.write(move |s| s.touch_token(&name)).await
    }

    /// The token whose secret this is, if any.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<views::TokenView>> {
        let secret = secret.to_owned();
        self.read(move |c| sqlite::tokens::authenticate(c, &secret)).await
    }

    pub async fn tokens(&self) -> Result<Vec<views::TokenView>> {
        self.read(sqlite::tokens::list).await
    }

    /// Every violation of the invariants the database can show (empty: clean).
    pub async fn check(&self) -> Result<Vec<String>> {
        self.read(sqlite::check::check).await
    }
}

/// Puts a rejection's fields under entry `[i]` of a batch.
fn within(e: StoreError, i: usize) -> StoreError {
    use stocksync_core::{FieldError, Rejection};
    match e {
        StoreError::Rejected(Rejection::Invalid(es)) => {
            StoreError::Rejected(Rejection::Invalid(es.into_iter().map(|e| e.within(&format!("[{i}]"))).collect()))
        }
        StoreError::Rejected(r) => {
            StoreError::Rejected(Rejection::Invalid(vec![FieldError::new(format!("[{i}]"), r.to_string())]))
        }
        other => other,
    }
}
