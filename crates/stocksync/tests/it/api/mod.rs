//! The HTTP API of API.md, in process: the router over a fresh store per
//! test (SQLite, or PostgreSQL under `STOCKSYNC_TEST_BACKEND=postgres`),
//! called with `oneshot`. Every answer any test receives is also
//! validated against the served OpenAPI document (`schema`).

mod schema;
mod support;

mod allocation;
mod auth;
mod bootstrap;
mod channels;
mod fcs;
mod idempotency;
mod inventory;
mod items;
mod misc;
mod movements;
mod openapi;
mod orders;
mod tokens;
