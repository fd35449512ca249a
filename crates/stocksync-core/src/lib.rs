//! The stocksync domain, pure: no IO, no async, no SQL, no HTTP, no serde.
//!
//! - `auth`: API roles and token names.
//! - `values`: validated newtypes (`Sku`, `FcCode`, `Quantity`) and ids.
//! - `time`: instants and their RFC 3339 text; the clock is passed in.
//! - `catalog`: items, bundles and aliases, and the rules a catalog keeps.
//! - `allocation`: the allocation rule of PRODUCT.md §3 and its checker.
//! - `channel`: channel kinds and settings (§5).
//! - `push`: the quantity a listing should show (§4).
//! - `order`: incoming and stored orders, their statuses.
//! - `books`: the `Books` trait, the state the workflow reads and writes.
//! - `workflow`: the order workflow (§2) over `Books`: import, edit, cancel,
//!   ship, stock edits and counting corrections, backorders, mapping.
//! - `mem`: `MemBooks`, an in-memory `Books`, the reference model for tests.
//! - `error`: `Rejection` and `FieldError`.

pub mod allocation;
pub mod auth;
pub mod books;
pub mod catalog;
pub mod channel;
pub mod error;
pub mod mem;
pub mod order;
pub mod push;
pub mod time;
pub mod values;
pub mod workflow;

pub use error::{FieldError, Rejection};
pub use time::Timestamp;
pub use values::{ChannelId, FcCode, FcId, ItemId, LineKey, OrderId, Quantity, Sku};
