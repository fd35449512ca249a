//! Integration tests for the connectors against their simulators, and
//! contract tests of both against the channels' official specs.

mod amazon;
mod amazon_contract;
mod api_push;
mod ebay;
mod ebay_contract;
mod etsy;
mod etsy_contract;
mod graphql_schema;
mod hooks;
mod shopify;
mod shopify_contract;
mod specs;
mod walmart;
mod walmart_contract;
mod woocommerce;
mod woocommerce_contract;

/// A plain HTTP client for talking to a simulator directly (with the TLS
/// provider installed first: reqwest is built without one).
pub fn client() -> reqwest::Client {
    stocksync_channels::install_tls_provider();
    reqwest::Client::new()
}
