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
CREATE INDEX movements_by_level ON movements (item_id, fc_id);
CREATE INDEX movements_by_reference ON movements (reference);
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
-- one row per item whose listings (the item's own, on every channel) may
-- show a new quantity. Append-only, so marking costs sequential writes; the
-- push worker coalesces rows for the same item and sends the latest value.
CREATE TABLE push_queue (
    id         INTEGER PRIMARY KEY,
    item_id    INTEGER NOT NULL,
    marked_at  INTEGER NOT NULL
);

-- Per-listing push bookkeeping, written only by the push worker.
CREATE TABLE push_state (
    listing_id       INTEGER PRIMARY KEY REFERENCES listings (id),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT
);

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
    trace              TEXT NOT NULL DEFAULT '',
    UNIQUE (channel_id, external_id)
);
CREATE INDEX orders_by_placed ON orders (placed_at, id);

CREATE TABLE order_lines (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders (id),
    position     INTEGER NOT NULL,
    line_id      TEXT NOT NULL,
    channel_sku  TEXT NOT NULL,
    item_id      INTEGER REFERENCES items (id),
    -- What one unit consumes, fixed when the line was mapped: "item:per_unit|…".
    parts        TEXT NOT NULL DEFAULT '',
    quantity     INTEGER NOT NULL CHECK (quantity > 0),
    backordered  INTEGER NOT NULL CHECK (backordered >= 0),
    removed      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (order_id, line_id)
);
CREATE INDEX order_lines_unmapped ON order_lines (channel_sku) WHERE item_id IS NULL AND removed = 0;

CREATE TABLE allocations (
    line_pk   INTEGER NOT NULL REFERENCES order_lines (id),
    fc_id     INTEGER NOT NULL,
    item_id   INTEGER NOT NULL,
    shipped   INTEGER NOT NULL DEFAULT 0,
    quantity  INTEGER NOT NULL CHECK (quantity > 0),
    order_id  INTEGER NOT NULL,
    PRIMARY KEY (line_pk, fc_id, item_id, shipped)
) WITHOUT ROWID;
CREATE INDEX allocations_open ON allocations (item_id, fc_id) WHERE shipped = 0;

-- Backordered lines of open orders, one row per stock item they need,
-- queued oldest first.
CREATE TABLE backorders (
    item_id    INTEGER NOT NULL,
    placed_at  INTEGER NOT NULL,
    order_id   INTEGER NOT NULL,
    line_pk    INTEGER NOT NULL,
    PRIMARY KEY (item_id, placed_at, order_id, line_pk)
) WITHOUT ROWID;
CREATE INDEX backorders_by_line ON backorders (line_pk);

CREATE TABLE api_tokens (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
