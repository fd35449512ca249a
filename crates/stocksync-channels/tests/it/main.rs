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
