//! Integration tests for the connectors against their simulators.

mod api_push;
