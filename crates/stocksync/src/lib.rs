//! The `stocksync` application: everything the binary wires together.
//!
//! - `config`: typed, layered settings.
//! - `commands`: one module per CLI subcommand; `bench`: the benchmarks.
//! - `markets`: the simulated marketplaces `demo` and `bench e2e` run, and
//!   the channel credentials that reach them.
//! - `http`: the JSON API of API.md (router, auth, idempotency, errors, OpenAPI).
//! - `ui`: the web UI at `/` (server-rendered pages, sign-in, CSRF).
//! - `workers`: the push and import workers.
//! - `csv`: the bulk-upload and export formats of PRODUCT.md §6, streamed.

pub mod bench;
pub mod commands;
pub mod config;
pub mod csv;
pub mod http;
pub mod markets;
pub mod ui;
pub mod workers;
