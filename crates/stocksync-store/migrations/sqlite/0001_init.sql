-- stocksync schema, SQLite. Times are integer milliseconds since the Unix epoch.

CREATE TABLE fulfillment_centers (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    priority    INTEGER NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);

CREATE TABLE items (
    id          INTEGER PRIMARY KEY,
    sku         TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL DEFAULT '',
    kind        TEXT NOT NULL CHECK (kind IN ('stock', 'bundle')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE bundle_components (
    bundle_id     INTEGER NOT NULL REFERENCES items (id),
    position      INTEGER NOT NULL,
    component_id  INTEGER NOT NULL REFERENCES items (id),
    quantity      INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (bundle_id, position)
) WITHOUT ROWID;
CREATE INDEX bundle_components_by_component ON bundle_components (component_id);

CREATE TABLE aliases (
    alias    TEXT PRIMARY KEY,
    item_id  INTEGER NOT NULL REFERENCES items (id)
) WITHOUT ROWID;
CREATE INDEX aliases_by_item ON aliases (item_id);

-- The no-oversell invariant, enforced by the database as a last line of defence.
CREATE TABLE stock_levels (
    item_id    INTEGER NOT NULL REFERENCES items (id),
    fc_id      INTEGER NOT NULL REFERENCES fulfillment_centers (id),
    on_hand    INTEGER NOT NULL,
    committed  INTEGER NOT NULL,
    PRIMARY KEY (item_id, fc_id),
    CHECK (committed >= 0 AND committed <= on_hand)
) WITHOUT ROWID;

CREATE TABLE movements (
    id               INTEGER PRIMARY KEY,
    at               INTEGER NOT NULL,
    item_id          INTEGER NOT NULL,
    fc_id            INTEGER NOT NULL,
    on_hand_delta    INTEGER NOT NULL,
    committed_delta  INTEGER NOT NULL,
    on_hand_after    INTEGER NOT NULL,
    committed_after  INTEGER NOT NULL,
    reason           TEXT NOT NULL,
    reference        TEXT NOT NULL DEFAULT '',
    actor            TEXT NOT NULL
);
-- The ledger has no index of its own: an index by level costs a random
-- B-tree insert per movement on the ingest path (~10%, bench ingest).
-- Instead the writer indexes it in batches, about once a second
-- (`movement_index`, sorted inserts that touch each page once per batch),
-- and queries read that index plus the short unindexed tail
-- (ids above `movement_index_state.indexed_upto`).
CREATE TABLE movement_index (
    item_id      INTEGER NOT NULL,
    fc_id        INTEGER NOT NULL,
    movement_id  INTEGER NOT NULL,
    PRIMARY KEY (item_id, fc_id, movement_id)
) WITHOUT ROWID;
CREATE TABLE movement_index_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto  INTEGER NOT NULL
);
INSERT INTO movement_index_state (id, indexed_upto) VALUES (1, 0);
-- No index on `reference`: no query needs one yet, and on the ingest path it
-- cost ~12% (bench ingest, interleaved A/B). Listing an order's movements
-- (API `?order=`) finds them through the levels the order touched.
CREATE TRIGGER movements_no_update BEFORE UPDATE ON movements
    BEGIN SELECT RAISE(ABORT, 'movements are append-only'); END;
CREATE TRIGGER movements_no_delete BEFORE DELETE ON movements
    BEGIN SELECT RAISE(ABORT, 'movements are append-only'); END;

CREATE TABLE channels (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    kind               TEXT NOT NULL,
    base_url           TEXT,
    credentials        TEXT NOT NULL DEFAULT '{}',
    import_orders      INTEGER NOT NULL DEFAULT 1,
    push_quantities    INTEGER NOT NULL DEFAULT 1,
    import_quantities  INTEGER NOT NULL DEFAULT 0,
    source_fc_id       INTEGER REFERENCES fulfillment_centers (id),
    all_fcs            INTEGER NOT NULL DEFAULT 1,
    allow_split        INTEGER NOT NULL DEFAULT 1,
    percent            INTEGER NOT NULL DEFAULT 100,
    min_threshold      INTEGER NOT NULL DEFAULT 0,
    max_visible        INTEGER,
    poll_interval_s    INTEGER NOT NULL DEFAULT 60,
    import_cursor      TEXT,
    last_import_at     INTEGER,
    last_import_error  TEXT,
    created_at         INTEGER NOT NULL
);

-- FCs selling on a channel whose all_fcs is 0.
CREATE TABLE channel_fcs (
    channel_id  INTEGER NOT NULL REFERENCES channels (id),
    fc_id       INTEGER NOT NULL REFERENCES fulfillment_centers (id),
    PRIMARY KEY (channel_id, fc_id)
) WITHOUT ROWID;

CREATE TABLE listings (
    id                    INTEGER PRIMARY KEY,
    channel_id            INTEGER NOT NULL REFERENCES channels (id),
    channel_sku           TEXT NOT NULL,
    item_id               INTEGER REFERENCES items (id),
    external_id           TEXT,
    percent               INTEGER,
    min_threshold         INTEGER,
    max_visible           INTEGER,
    last_pushed_quantity  INTEGER,
    last_pushed_at        INTEGER,
    push_version          INTEGER NOT NULL DEFAULT 0,
    last_error            TEXT,
    created_at            INTEGER NOT NULL,
    UNIQUE (channel_id, channel_sku)
);
CREATE INDEX listings_by_item ON listings (item_id);

-- The push outbox, written in the same transaction as every stock change:
-- one row per transaction that changed stock, listing the items whose
-- listings (on every channel) may now show another quantity, as
-- comma-separated ids. Append-only, so marking costs one sequential write
-- per batch; the push worker coalesces items and sends the latest value.
CREATE TABLE push_queue (
    id         INTEGER PRIMARY KEY,
    marked_at  INTEGER NOT NULL,
    items      TEXT NOT NULL
);

-- Per-listing push bookkeeping. The push worker moves queue rows here in
-- one transaction (coalescing: the latest computed value wins), sends what
-- is due, and records the channel's answer. `desired_version` grows with
-- every new value; `acked_version` is the newest value the channel
-- accepted, so a late answer for an older value never overwrites a newer one.
CREATE TABLE push_state (
    listing_id        INTEGER PRIMARY KEY REFERENCES listings (id),
    channel_id        INTEGER NOT NULL,
    desired_quantity  INTEGER NOT NULL,
    desired_version   INTEGER NOT NULL,
    -- When the oldest change behind the pending value was marked (latency).
    desired_since     INTEGER NOT NULL,
    acked_version     INTEGER NOT NULL DEFAULT 0,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT
);
CREATE INDEX push_state_due ON push_state (channel_id, next_attempt_at) WHERE desired_version > acked_version;

-- An order with its lines and their allocations inline (`lines`, JSON):
-- one row per order keeps ingest to one insert here. `units` and
-- `backordered` are the sums over its live mapped lines, for summaries.
CREATE TABLE orders (
    id                 INTEGER PRIMARY KEY,
    channel_id         INTEGER NOT NULL REFERENCES channels (id),
    external_id        TEXT NOT NULL,
    status             TEXT NOT NULL,
    source_status      TEXT NOT NULL,
    placed_at          INTEGER NOT NULL,
    source_updated_at  INTEGER,
    imported_at        INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    lines              TEXT NOT NULL,
    units              INTEGER NOT NULL DEFAULT 0,
    backordered        INTEGER NOT NULL DEFAULT 0,
    trace              TEXT NOT NULL DEFAULT '',
    UNIQUE (channel_id, external_id)
);

-- Backordered lines of open orders, one row per stock item they need,
-- queued oldest first.
CREATE TABLE backorders (
    item_id    INTEGER NOT NULL,
    placed_at  INTEGER NOT NULL,
    order_id   INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (item_id, placed_at, order_id, position)
) WITHOUT ROWID;
CREATE INDEX backorders_by_order ON backorders (order_id);

-- Unmapped lines of open orders, by the channel SKU that would map them.
CREATE TABLE unmapped_lines (
    channel_sku  TEXT NOT NULL,
    order_id     INTEGER NOT NULL,
    PRIMARY KEY (channel_sku, order_id)
) WITHOUT ROWID;
CREATE INDEX unmapped_lines_by_order ON unmapped_lines (order_id);

CREATE TABLE api_tokens (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);

-- Answers to POSTs that carried an Idempotency-Key, replayed for a retry
-- with the same key. `scope` is a hash of the caller's credential.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- Web UI users. Passwords are people's choices, so they are kept as
-- argon2id PHC strings (salted and slow to guess), made by the binary.
CREATE TABLE users (
    name           TEXT PRIMARY KEY,
    role           TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    last_login_at  INTEGER
);

-- Signed-in browser sessions, by the SHA-256 of the cookie's random secret:
-- a copy of the database holds no usable session.
CREATE TABLE user_sessions (
    id_hash     TEXT PRIMARY KEY,
    user_name   TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX user_sessions_by_expiry ON user_sessions (expires_at);
