//! The HTTP API of API.md, in process: the router over a temp SQLite store
//! per test, called with `oneshot`. Every answer any test receives is also
//! validated against the served OpenAPI document (`schema`).

mod schema;
mod support;

mod auth;
mod bootstrap;
mod idempotency;
mod inventory;
mod misc;
mod openapi;
mod tokens;
