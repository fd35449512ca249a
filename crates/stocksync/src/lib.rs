//! The `stocksync` application: everything the binary wires together.
//!
//! - `config`: typed, layered settings.
//! - `commands`: one module per CLI subcommand; `bench`: the benchmarks.
//! - `http`: the JSON API of API.md (router, auth, idempotency, errors, OpenAPI).
//! - `ui`: the web UI at `/` (server-rendered pages, sign-in, CSRF).
//! - `workers`: the push and import workers.
//! - `csv`: the bulk-upload and export formats of PRODUCT.md §6, streamed.

pub mod bench;
pub mod commands;
pub mod config;
pub mod csv;
pub mod http;
pub mod ui;
pub mod workers;
