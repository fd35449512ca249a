-- When a pending value's quantity went stale on its channel: the
-- marketplace's time of the order version behind it (else when it was
-- marked). Push claims take the backlog and the fresh changes by this, so
-- an order polled a minute late queues behind older changes, not among
-- fresh ones; `desired_since` stays the time stocksync marked it (push
-- latency). A queue row's `stale_since` is NULL for "its `marked_at`".
ALTER TABLE push_queue ADD COLUMN stale_since BIGINT;
ALTER TABLE push_state ADD COLUMN stale_since BIGINT NOT NULL DEFAULT 0;
UPDATE push_state SET stale_since = desired_since;
