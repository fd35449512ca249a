-- Several processes on one database (PRODUCT.md §7): each channel's
-- workers (order import and pushes) run in the process holding the
-- channel's lease; a holder renews it every second and another process
-- takes it over once it has expired.
CREATE TABLE channel_leases (
    channel_id  BIGINT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- A push being sent is claimed by its sender until `claimed_until`, so no
-- other process sends it too; answering clears the claim.
ALTER TABLE push_state ADD COLUMN claimed_by TEXT;
ALTER TABLE push_state ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
