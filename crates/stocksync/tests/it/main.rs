//! Integration tests for the `stocksync` binary: each test runs the compiled
//! executable as a child process against its own temporary directory.

mod api;
mod bench;
mod check;
mod cli;
mod common;
mod csv_catalog;
mod csv_cli;
mod csv_export;
mod csv_upload;
