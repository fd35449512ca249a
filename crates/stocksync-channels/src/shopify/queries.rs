//! The GraphQL documents the Shopify connector sends (Admin API 2025-01).
//! The contract tests check every field, argument and variable type here
//! against the official introspection, so they stay plain constants.
//!
//! Page sizes are variables because Shopify prices a query before running
//! it: a connection costs 2 + `first` × its node's cost, objects cost 1,
//! and one query may cost at most 1,000 points [doc: usage/rate-limits].

/// Orders changed in a window, `UPDATED_AT` ascending, with their first lines.
pub const ORDERS: &str = "query Orders($first: Int!, $after: String, $query: String!, $lines: Int!) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id legacyResourceId name createdAt updatedAt cancelledAt closed displayFulfillmentStatus
      lineItems(first: $lines) {
        pageInfo { hasNextPage endCursor }
        nodes { id sku quantity currentQuantity }
      }
    }
  }
}";

/// The further lines of one order with more than fit in `ORDERS`.
pub const ORDER_LINES: &str = "query OrderLines($id: ID!, $after: String, $lines: Int!) {
  order(id: $id) {
    lineItems(first: $lines, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id sku quantity currentQuantity }
    }
  }
}";

/// Every variant's SKU, total quantity and inventory item.
pub const VARIANTS: &str = "query Variants($first: Int!, $after: String) {
  productVariants(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { sku inventoryQuantity inventoryItem { id } }
  }
}";

/// Absolute `available` quantities at one location.
pub const SET_QUANTITIES: &str = "mutation SetQuantities($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    userErrors { field message code }
  }
}";
