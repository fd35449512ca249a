//! Shopify contract, against the Admin API 2025-01 introspection: every
//! field, argument, enum literal and variable type the connector's documents
//! use exists there; the variables it sends fit the declared input types;
//! and the simulator's `data` has only schema fields of the right kinds.

use serde_json::{Value, json};
use stocksync_channels::shopify::queries;
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::shopify::{ItemSeed, ShopifySim};
use stocksync_channels::sim::{Faults, Running};

use crate::graphql_schema::{Schema, check_document};
use crate::shopify::{LOCATION, TOKEN, start};
use crate::specs;

const DOCUMENTS: [(&str, &str); 4] = [
    ("ORDERS", queries::ORDERS),
    ("ORDER_LINES", queries::ORDER_LINES),
    ("VARIANTS", queries::VARIANTS),
    ("SET_QUANTITIES", queries::SET_QUANTITIES),
];

fn load() -> Option<Schema> {
    let dir = specs::dir()?;
    Some(Schema::load(&specs::read_json(&dir.join("shopify/admin_schema_2025-01.json.gz"))))
}

#[test]
fn every_field_argument_and_variable_exists_in_2025_01() {
    let Some(schema) = load() else { return };
    for (name, doc) in DOCUMENTS {
        let checked = check_document(&schema, doc);
        assert!(checked.problems.is_empty(), "{name}:\n{}", checked.problems.join("\n"));
    }
    let named = [
        ("QueryRoot", "orders", &["first", "after", "sortKey", "query"][..]),
        ("QueryRoot", "order", &["id"]),
        ("QueryRoot", "productVariants", &["first", "after"]),
        ("Order", "cancelledAt", &[]),
        ("Order", "legacyResourceId", &[]),
        ("Order", "lineItems", &["first", "after"]),
        ("LineItem", "currentQuantity", &[]),
        ("ProductVariant", "inventoryItem", &[]),
        ("Mutation", "inventorySetQuantities", &["input"]),
    ];
    for (on, field, args) in named {
        let (_, have) = schema.field(on, field).unwrap_or_else(|| panic!("{on}.{field} is not in 2025-01"));
        for a in args {
            assert!(have.contains_key(*a), "{on}.{field} has no argument {a}");
        }
    }
    let input = schema.input_fields("InventorySetQuantitiesInput");
    for f in ["name", "reason", "ignoreCompareQuantity", "quantities"] {
        assert!(input.contains_key(f), "InventorySetQuantitiesInput has no {f}");
    }
    let quantity = schema.input_fields("InventoryQuantityInput");
    for f in ["inventoryItemId", "locationId", "quantity"] {
        assert!(quantity.contains_key(f), "InventoryQuantityInput has no {f}");
    }

    let misspelt =
        check_document(&schema, "query Q($n: String) { orders(first: $n, sortKey: UPDATED) { nodes { cancelAt } } }");
    assert_eq!(misspelt.problems.len(), 3, "the checker catches mistakes: {:?}", misspelt.problems);
}

async fn replay(running: &Running, request: &Value) -> Value {
    let url = format!("{}/admin/api/2025-01/graphql.json", running.url());
    let res = crate::client().post(url).header("x-shopify-access-token", TOKEN).json(request).send().await.unwrap();
    res.json().await.unwrap()
}

#[tokio::test]
async fn sent_variables_and_simulated_answers_fit_the_schema() {
    let Some(schema) = load() else { return };
    let sim = ShopifySim::new(TOKEN, LOCATION, Faults::default()).with_bucket(1e9, 1e9);
    let (sim, running, c) = start(sim).await;
    let item = sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 4 });
    let skus: Vec<String> = (0..45).map(|i| format!("L-{i}")).collect();
    let lines: Vec<(&str, u32)> = skus.iter().map(|s| (s.as_str(), 2)).collect();
    let long = sim.apply(OrderChange::create(&lines)).unwrap();
    sim.apply(OrderChange::modify(&long.id).set_line("L-0", 1).cancel()).unwrap();
    let shipped = sim.apply(OrderChange::create(&[("A-1", 1)])).unwrap();
    sim.apply(OrderChange::modify(&shipped.id).ship()).unwrap();
    let now = stocksync_channels::clock::system_now();
    c.fetch_orders(stocksync_core::Timestamp(0), stocksync_core::Timestamp(now.millis() + 60_000)).await.unwrap();
    c.fetch_listings().await.unwrap();
    let pushed = c.push(&[entry("A-1", 2, &item), entry("X", 1, "gid://shopify/InventoryItem/1")]).await;
    assert!(pushed[0].is_ok() && pushed[1].is_err());

    let requests = sim.requests();
    let mut seen = Vec::new();
    for request in &requests {
        let query = request["query"].as_str().unwrap_or_default();
        let (name, doc) =
            DOCUMENTS.iter().find(|(_, d)| *d == query).unwrap_or_else(|| panic!("unknown document {query}"));
        seen.push(*name);
        let declared = check_document(&schema, doc).variables;
        let mut problems = Vec::new();
        for (var, value) in request["variables"].as_object().into_iter().flatten() {
            match declared.get(var) {
                Some(t) => schema.check_input(t, value, &format!("${var}"), &mut problems),
                None => problems.push(format!("${var} is not declared")),
            }
        }
        assert!(problems.is_empty(), "{name} variables:\n{}", problems.join("\n"));

        let answer = replay(&running, request).await;
        let root = if query.starts_with("mutation") { &schema.mutation_root } else { &schema.query_root };
        schema.check_output(root, &answer["data"], "data", &mut problems);
        assert!(problems.is_empty(), "{name} answer:\n{}\n{answer:#}", problems.join("\n"));
        let status = &answer["extensions"]["cost"]["throttleStatus"];
        for k in ["maximumAvailable", "currentlyAvailable", "restoreRate"] {
            assert!(status[k].is_number(), "{name}: extensions.cost.throttleStatus.{k} missing: {answer}");
        }
    }
    for (name, _) in DOCUMENTS {
        assert!(seen.contains(&name), "{name} was never sent");
    }
    let user_errors = replay(&running, requests.last().unwrap()).await;
    assert_eq!(user_errors["data"]["inventorySetQuantities"]["userErrors"], json!([]), "the retry round had no errors");
}

fn entry(sku: &str, quantity: i64, item: &str) -> stocksync_channels::PushEntry {
    stocksync_channels::PushEntry {
        channel_sku: sku.into(),
        sku: sku.into(),
        external_id: Some(item.into()),
        quantity,
        version: 1,
    }
}
