//! Marketplace connectors and their simulators. This crate never touches the
//! database: connectors turn channel APIs into plain values and back, and
//! the application's workers decide what to store.
//!
//! - `model`: what a connector returns and accepts (orders, listings, pushes, errors).
//! - `http`: the shared client layer: timeouts, retries with backoff and
//!   jitter, a per-channel rate limiter and optional per-operation ones,
//!   obedience to 429 and `Retry-After`.
//! - `clock`: the injected time source.
//! - `connector`: `Connector`, one variant per channel kind, and its operations.
//! - `amazon`, `api`, `ebay`, `etsy`, `shopify`, `walmart`, `woocommerce`: one module per connector.
//! - `paging`: reading every order of a window from numbered or offset pages.
//! - `oauth`: short-lived access tokens kept until shortly before they expire.
//! - `sim`: simulated marketplaces serving the official shapes, with faults on demand.
//! - `signing`: HMAC signatures of pushes and webhooks.

pub mod amazon;
pub mod api;
pub mod clock;
pub mod connector;
pub mod ebay;
pub mod etsy;
pub mod http;
pub mod model;
pub mod oauth;
pub mod paging;
pub mod shopify;
pub mod signing;
pub mod sim;
pub mod walmart;
pub mod woocommerce;

pub use connector::Connector;
pub use model::{ChannelConfig, ChannelError, PushEntry, PushResult, RemoteLine, RemoteListing, RemoteOrder};

/// Installs the process-wide TLS crypto provider (ring) once. reqwest is
/// built without a provider of its own to keep aws-lc's C build out.
pub fn install_tls_provider() {
    // Fails only when a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
