//! Helpers: a fresh database per test, a controllable clock, seeding, dumps.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use rusqlite::Connection;
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_core::{ChannelId, Timestamp};
use stocksync_store::{Clock, NewChannel, Store};

/// A database file that lives as long as the value.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub url: String,
}

impl TestDb {
    pub fn new() -> Self {
        Self::with_clock(fixed_clock(1_795_000_000_000).0)
    }

    pub fn with_clock(clock: Clock) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = Store::open_with_clock(&url, clock).expect("open store");
        Self { dir, store, url }
    }

    pub fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("test.db")
    }

    /// A raw connection for dumps and deliberate corruption.
    pub fn raw(&self) -> Connection {
        Connection::open(self.path()).expect("raw connection")
    }
}

/// A clock that returns `start` and advances by 1 ms per reading.
pub fn fixed_clock(start: i64) -> (Clock, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(start));
    let n = now.clone();
    (Arc::new(move || Timestamp(n.fetch_add(1, Ordering::Relaxed))), now)
}

pub async fn fc(store: &Store, code: &str, priority: i64) {
    store.create_fc(FcSpec::new(code, code, priority, true).unwrap()).await.unwrap();
}

pub async fn stock_item(store: &Store, sku: &str) {
    store.create_item(ItemDraft { sku: sku.into(), kind: "stock".into(), ..Default::default() }, "test").await.unwrap();
}

pub async fn channel(store: &Store, name: &str, allow_split: bool) -> ChannelId {
    let mut settings = ChannelSettings::defaults(ChannelKind::Api);
    settings.allow_split = allow_split;
    store
        .create_channel(NewChannel {
            name: name.into(),
            kind: ChannelKind::Api,
            base_url: None,
            credentials_json: "{}".into(),
            settings,
        })
        .await
        .unwrap()
}

pub async fn on_hand(store: &Store, sku: &str, fc: &str, n: i64) {
    store.set_stock(sku, fc, StockTarget::OnHand(n), Some("seed"), "test").await.unwrap();
}

/// Everything that describes the state, as text rows, without row ids that
/// depend on timing.
pub fn dump(conn: &Connection) -> Vec<String> {
    let queries = [
        "SELECT 'level', item_id, fc_id, on_hand, committed FROM stock_levels ORDER BY 2, 3",
        "SELECT 'order', channel_id, external_id, status, source_status, source_updated_at FROM orders ORDER BY 2, 3",
        "SELECT 'line', o.external_id, j.value ->> 'id', j.value ->> 'cs', j.value ->> 'it', j.value ->> 'p',
                j.value ->> 'q', j.value ->> 'bo', COALESCE(j.value ->> 'rm', 0)
           FROM orders o, json_each(o.lines) j ORDER BY 2, 3",
        "SELECT 'alloc', o.external_id, j.value ->> 'id', a.value ->> '$[0]', a.value ->> '$[1]', a.value ->> '$[3]',
                a.value ->> '$[2]'
           FROM orders o, json_each(o.lines) j, json_each(j.value, '$.a') a ORDER BY 2, 3, 4, 5, 6",
        "SELECT 'ledger', item_id, fc_id, COUNT(*), SUM(on_hand_delta), SUM(committed_delta) FROM movements GROUP BY 2, 3 ORDER BY 2, 3",
        "SELECT 'listing', channel_id, channel_sku, item_id FROM listings ORDER BY 2, 3",
    ];
    let mut out = Vec::new();
    for q in queries {
        let mut st = conn.prepare(q).unwrap();
        let cols = st.column_count();
        let rows = st
            .query_map([], |r| {
                let mut s = String::new();
                for i in 0..cols {
                    let v: rusqlite::types::Value = r.get(i)?;
                    s.push_str(&format!("{v:?} "));
                }
                Ok(s)
            })
            .unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}
