//! Integration tests for the `stocksync` binary: each test runs the compiled
//! executable as a child process against its own temporary directory.

mod bench;
mod check;
mod cli;
mod common;
mod sync;
