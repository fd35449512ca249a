//! The only crate with SQL: one concrete `Store` over SQLite or PostgreSQL.
//!
//! - `sqlite`: the SQLite backend (WAL, `synchronous=FULL`), a single writer
//!   thread with group commit, reader connections, migrations, checks.
//! - `postgres`: the PostgreSQL backend, the same shape: a single writer
//!   thread per process with group commit, serialised across processes by a
//!   transaction-level advisory lock, and a pool of reader connections.
//! - `dispatch`: the macros that expand one method body per backend.
//! - `input`, `views`: the plain values callers submit and queries return.
//! - `lines`: how an order's lines are stored inline (both backends).
//! - `tokens`: how API tokens are stored (hashed; both backends).
//! - `error`: `StoreError`.
//! - `bulk`: batch lookups, upserts and export pages behind CSV uploads.
//! - `users`: web UI users and sessions; `attention`: what the UI's dashboard and activity show.
//!
//! Every write runs the core workflow (`stocksync_core::workflow`) against
//! `Books` implemented over the open transaction, so backends share one
//! definition of what an operation does.

#[macro_use]
mod dispatch;
mod attention;
mod bulk;
mod dirty;
pub mod error;
mod input;
mod line_checks;
mod lines;
pub mod postgres;
mod resources;
pub mod sqlite;
mod sync;
mod tokens;
mod users;
pub mod views;

use std::path::PathBuf;
use std::sync::Arc;

use stocksync_core::auth::Role;
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::order::IncomingOrder;
use stocksync_core::workflow::{self, Ctx, ImportOutcome, StockTarget};
use stocksync_core::{ChannelId, ItemId, OrderId, Timestamp};

pub use bulk::BulkJob;
pub use error::{Result, StoreError};
pub use input::{ChannelEdit, ItemPatch, ItemRow, ListingUpsert, NewChannel, NewListing, PushAnswer};
pub use sqlite::idempotency::IDEMPOTENCY_KEEP_MS;
pub use sync::{CLAIM_TTL_MS, ImportReport, ListingReport};
pub use views::{DuePush, LevelRow, ListingRow, RequestKey, RowAction, SkuKind, Taken};
use views::{FcView, InventoryView, ItemView, OrderStats, OrderView};

/// The clock, injected so that tests and simulations control time.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| Timestamp(now_ms()))
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// How a write job is isolated from the others in its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// In a savepoint: any failure undoes this job alone.
    Savepoint,
    /// No savepoint, for hot paths whose every rejection comes before their
    /// first write. A database error in such a job fails its whole batch.
    RejectsBeforeWriting,
}

/// The database behind a `Store`. One variant per backend.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite {
        writer: sqlite::writer::Writer,
        readers: sqlite::Readers,
        /// Keeps the checkpointer thread running while any clone of the store lives.
        _alive: Arc<()>,
    },
    Postgres(postgres::Pg),
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
    /// A libpq-style URL (`postgres://user@host:port/db`), kept as given.
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `sqlite://PATH` (and `sqlite:PATH`), `postgres://…` and `postgresql://…`.
    pub fn parse(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
        match path {
            Some(p) if !p.is_empty() => Ok(Self::Sqlite(PathBuf::from(p))),
            _ => Err(StoreError::BadUrl(url.to_owned())),
        }
    }

    /// `url` fit for messages and logs: a PostgreSQL password becomes `***`.
    pub fn redacted(url: &str) -> String {
        match Self::parse(url) {
            Ok(Self::Postgres(url)) => postgres::redacted(&url),
            _ => url.to_owned(),
        }
    }
}

impl Store {
    /// Opens (creating and migrating if needed) the database at `url`. A
    /// PostgreSQL database must exist; its schema is created if missing.
    pub fn open(url: &str) -> Result<Self> {
        Self::open_with_clock(url, system_clock())
    }

    /// Opens the database at `url` as `open` does, but only if it already
    /// exists (for PostgreSQL: holds stocksync's schema): otherwise returns
    /// `StoreError::Missing` and creates nothing. Commands that read what is
    /// there use this, so a mistyped URL fails instead of silently checking a
    /// brand-new empty database.
    pub fn open_existing(url: &str) -> Result<Self> {
        match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(path) => {
                if !path
                    .try_exists()
                    .map_err(|e| StoreError::Internal(format!("cannot tell whether {} exists: {e}", path.display())))?
                {
                    return Err(StoreError::Missing(path.display().to_string()));
                }
            }
            DatabaseUrl::Postgres(url) => {
                if !postgres::has_schema(&url)? {
                    return Err(StoreError::Missing(postgres::redacted(&url)));
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
                let writer = sqlite::writer::Writer::start(conn, clock)?;
                Ok(Self { backend: Backend::Sqlite { writer, readers: sqlite::Readers::new(path), _alive: alive } })
            }
            DatabaseUrl::Postgres(url) => Ok(Self { backend: Backend::Postgres(postgres::Pg::open(&url, clock)?) }),
        }
    }

    /// Applies pending migrations without starting anything; returns the versions applied.
    pub fn migrate(url: &str) -> Result<Vec<i64>> {
        match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(path) => sqlite::migrate(&mut sqlite::connect(&path)?),
            DatabaseUrl::Postgres(url) => postgres::migrate_url(&url),
        }
    }

    /// `"sqlite"` or `"postgres"`: which backend this store runs on.
    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Runs a write job that panics, as a bug in a job would: the caller's
    /// request fails and the writer goes on. For tests of that isolation.
    #[doc(hidden)]
    pub async fn run_panicking_job(&self) -> Result<()> {
        on_writer!(self, Isolation::Savepoint, |_s| panicking_job())
    }

    pub async fn create_fc(&self, spec: FcSpec) -> Result<()> {
        on_writer!(self, Isolation::Savepoint, |s| s.create_fc(&spec))
    }

    pub async fn create_item(&self, draft: ItemDraft, actor: &str) -> Result<ItemId> {
        let actor = actor.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| s.create_item(&draft, &actor))
    }

    pub async fn create_items(&self, drafts: Vec<ItemDraft>, actor: &str) -> Result<usize> {
        let actor = actor.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| s.create_items(&drafts, &actor))
    }

    pub async fn create_channel(&self, ch: NewChannel) -> Result<ChannelId> {
        on_writer!(self, Isolation::Savepoint, |s| s.create_channel(&ch))
    }

    pub async fn create_listing(&self, channel: ChannelId, listing: NewListing, actor: &str) -> Result<Option<ItemId>> {
        let actor = actor.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| s.create_listing(channel, &listing, &actor))
    }

    /// Creates many listings on one channel in one transaction, all or
    /// nothing; errors name the entry as `[i]`.
    pub async fn create_listings(&self, channel: ChannelId, listings: Vec<NewListing>, actor: &str) -> Result<usize> {
        let actor = actor.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| {
            for (i, l) in listings.iter().enumerate() {
                s.create_listing(channel, l, &actor).map_err(|e| within(e, i))?;
            }
            Ok(listings.len())
        })
    }

    /// Imports an order as its channel reports it (idempotent). The import
    /// workflow rejects only before its first write, so it runs without a
    /// savepoint (see `Isolation`).
    pub async fn import_order(&self, order: IncomingOrder, actor: &str) -> Result<ImportOutcome> {
        let actor = actor.to_owned();
        let key = (order.channel, order.external_id.clone());
        on_writer_importing!(self, Isolation::RejectsBeforeWriting, key, |s| {
            let cx = Ctx { at: s.now, actor: &actor };
            s.st.dirty_items.set_source(Some(order.version_at()));
            workflow::import_order(s, &order, &cx)
        })
    }

    pub async fn cancel_order(&self, id: i64, actor: &str) -> Result<()> {
        let actor = actor.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| {
            let cx = Ctx { at: s.now, actor: &actor };
            workflow::cancel_order(s, OrderId(id), &cx).map(drop)
        })
    }

    pub async fn ship_order(&self, id: i64, actor: &str) -> Result<()> {
        let actor = actor.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| {
            let cx = Ctx { at: s.now, actor: &actor };
            workflow::ship_order(s, OrderId(id), &cx).map(drop)
        })
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
        on_writer!(self, Isolation::Savepoint, |s| {
            let cx = Ctx { at: s.now, actor: &actor };
            for (i, (sku, fc, target)) in rows.iter().enumerate() {
                workflow::set_stock(s, sku, fc, *target, reason.as_deref(), &reference, &cx)
                    .map_err(|e| within(e, i))?;
            }
            Ok(rows.len())
        })
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
        on_writer!(self, Isolation::Savepoint, |s| {
            let cx = Ctx { at: s.now, actor: &actor };
            workflow::set_stock(s, &sku, &fc, target, reason.as_deref(), "", &cx)
        })
    }

    pub async fn adjust_stock(
        &self,
        sku: &str,
        fc: &str,
        delta: i64,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<stocksync_core::books::Level> {
        self.adjust(None, sku, fc, delta, reason, actor).await
    }

    /// As `adjust_stock`, at most once per request: `request` is recorded
    /// in the same transaction as the change (a placeholder for the answer
    /// the API stores afterwards). A retry of a request whose answer was
    /// lost (the process died between COMMIT and answering, or the same
    /// request went to two processes) leaves the stock alone and gives the
    /// level as it is.
    pub async fn adjust_stock_once(
        &self,
        request: RequestKey,
        sku: &str,
        fc: &str,
        delta: i64,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<stocksync_core::books::Level> {
        self.adjust(Some(request), sku, fc, delta, reason, actor).await
    }

    async fn adjust(
        &self,
        request: Option<RequestKey>,
        sku: &str,
        fc: &str,
        delta: i64,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<stocksync_core::books::Level> {
        let (sku, fc, reason, actor) = (sku.to_owned(), fc.to_owned(), reason.map(str::to_owned), actor.to_owned());
        on_writer!(self, Isolation::Savepoint, |s| {
            match &request {
                Some(r) if !s.claim_request(r)? => {
                    use stocksync_core::books::Books;
                    let (item, fc) = (s.stock_item(&sku)?, s.fc(&fc)?.id);
                    s.level(item, fc)
                }
                _ => {
                    let cx = Ctx { at: s.now, actor: &actor };
                    workflow::adjust_stock(s, &sku, &fc, delta, reason.as_deref(), "", &cx)
                }
            }
        })
    }

    pub async fn fcs(&self) -> Result<Vec<FcView>> {
        on_reader!(self, |c, db| db::read::fcs(c))
    }

    pub async fn item(&self, sku: &str) -> Result<Option<ItemView>> {
        let sku = sku.to_owned();
        on_reader!(self, |c, db| db::read::item(c, &sku))
    }

    pub async fn inventory(&self, sku: &str) -> Result<Option<InventoryView>> {
        let sku = sku.to_owned();
        on_reader!(self, |c, db| db::read::inventory(c, &sku))
    }

    pub async fn order(&self, id: i64) -> Result<Option<OrderView>> {
        on_reader!(self, |c, db| db::read::order(c, id))
    }

    /// True when the database holds no fulfillment centers, items, channels
    /// or orders. Every other table hangs off one of these, so this is what
    /// "empty" means to a caller (the benches) that seeds its own catalog and
    /// must not mix it with existing data.
    pub async fn is_empty(&self) -> Result<bool> {
        on_reader!(self, |c, db| db::read::is_empty(c))
    }

    pub async fn stats(&self) -> Result<OrderStats> {
        on_reader!(self, |c, db| db::read::stats(c))
    }

    /// Stores a new API token (only its hash is kept).
    pub async fn create_token(&self, name: &str, role: Role, secret: &str) -> Result<()> {
        let (name, secret) = (name.to_owned(), secret.to_owned());
        on_writer!(self, Isolation::Savepoint, |s| s.create_token(&name, role, &secret))
    }

    /// Makes `name` a token with this role and secret, replacing any token
    /// of that name (the bootstrap token).
    pub async fn put_token(&self, name: &str, role: Role, secret: &str) -> Result<()> {
        let (name, secret) = (name.to_owned(), secret.to_owned());
        on_writer!(self, Isolation::Savepoint, |s| s.put_token(&name, role, &secret))
    }

    pub async fn delete_token(&self, name: &str) -> Result<()> {
        let name = name.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| s.delete_token(&name))
    }

    pub async fn touch_token(&self, name: &str) -> Result<()> {
        let name = name.to_owned();
        on_writer!(self, Isolation::Savepoint, |s| s.touch_token(&name))
    }

    /// The token whose secret this is, if any.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<views::TokenView>> {
        let secret = secret.to_owned();
        on_reader!(self, |c, db| db::tokens::authenticate(c, &secret))
    }

    pub async fn tokens(&self) -> Result<Vec<views::TokenView>> {
        on_reader!(self, |c, db| db::tokens::list(c))
    }

    /// Every violation of the invariants the database can show (empty: clean).
    pub async fn check(&self) -> Result<Vec<String>> {
        on_reader!(self, |c, db| db::check::check(c))
    }
}

fn panicking_job() -> Result<()> {
    panic!("a deliberate bug in a write job")
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
