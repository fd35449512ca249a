//! Integration tests for the `stocksync` binary: most run the compiled
//! executable as a child process against its own temporary directory; `api`,
//! `ui` and the `csv_*` HTTP tests call the router in process (`oneshot`),
//! each over its own temporary database; the UI is also driven in a real
//! headless Chromium (`ui::browser`). Tests that open a database get it from
//! `common::TestDb`: SQLite by default, PostgreSQL under
//! `STOCKSYNC_TEST_BACKEND=postgres`; the few about SQLite files stay on SQLite.

mod api;
mod bench;
mod channels;
mod channels_faults;
mod channels_more;
mod check;
mod cli;
mod common;
mod crash;
mod csv_catalog;
mod csv_cli;
mod csv_export;
mod csv_support;
mod csv_upload;
mod markets;
mod multiprocess;
mod sync;
mod ui;
