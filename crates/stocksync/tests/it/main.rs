//! Integration tests for the `stocksync` binary: each test runs the compiled
//! executable as a child process against its own temporary directory, or
//! (`api`, `ui`) calls the HTTP router in process over its own database; the
//! UI is also driven in a real headless Chromium (`ui::browser`).

mod api;
mod bench;
mod channels;
mod check;
mod cli;
mod common;
mod sync;
mod ui;
