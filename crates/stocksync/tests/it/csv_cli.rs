//! `stocksync import` and `stocksync export`, and the upload bench, run as
//! the binary.

use serde_json::Value;

use crate::common::{Sandbox, TestDb, seed_one_level};

/// What `stocksync export inventory` prints: the levels as they are.
fn inventory(sb: &Sandbox, url: &str) -> String {
    let out = sb.run(&["export", "inventory", "--database-url", url]);
    out.expect_code(0);
    out.stdout
}

#[test]
fn import_lists_every_bad_line_and_exits_2() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "db.sqlite");
    let url = &db.url;
    seed_one_level(url, 4);
    let file = sb.path("levels.csv");
    std::fs::write(&file, "sku,fc,on_hand\nSKU-1,EAST,9\nSKU-1,MARS,1\nNOPE,EAST,x\n").unwrap();
    let run = sb.run(&["import", "inventory", file.to_str().unwrap(), "--database-url", url]);
    run.expect_code(2);
    for line in [
        "line 3, column fc: unknown fulfillment center MARS",
        "line 4, column on_hand: \"x\" is not a whole number",
        "3 problem(s); nothing was applied",
    ] {
        assert!(run.stderr.contains(line), "missing {line:?}\n{run}");
    }
    assert!(run.stderr.contains("line 4, column sku: unknown item NOPE"), "{run}");
    assert!(!run.stderr.contains('\u{1b}'), "no progress bar when stderr is not a terminal\n{run}");
    assert_eq!(inventory(&sb, url), "sku,fc,on_hand\nSKU-1,EAST,4\n", "nothing was applied");
}

/// Items, a dry run, the inventory upload (one writer job applying the
/// streamed file), a refused file that applies nothing, and exports that
/// read back what was applied and import again unchanged.
#[test]
fn import_applies_a_good_file_and_export_writes_it_back() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "db.sqlite");
    let url = &db.url;
    seed_one_level(url, 4);
    let items = sb.path("items.csv");
    std::fs::write(
        &items,
        "sku,title,kind,components,aliases\nSKU-2,\"Cup, blue\",stock,,\nDUO,,bundle,SKU-1:1|SKU-2:1,\n",
    )
    .unwrap();
    let run = sb.run(&["import", "items", items.to_str().unwrap(), "--database-url", url]);
    run.expect_code(0);
    assert!(run.stdout.contains("line 2: SKU-2 created") && run.stdout.contains("line 3: DUO created"), "{run}");

    let levels = sb.path("levels.csv");
    std::fs::write(&levels, "\u{feff}sku,fc,on_hand\r\nSKU-1,EAST,9\r\nSKU-2,EAST,3\r\n").unwrap();
    let dry = sb.run(&["import", "inventory", levels.to_str().unwrap(), "--dry-run", "--database-url", url]);
    dry.expect_code(0);
    assert!(dry.stdout.contains("line 2: SKU-1 at EAST: on_hand 4 → 9"), "{dry}");
    assert!(dry.stderr.contains("2 would change") && dry.stderr.contains("dry run"), "{dry}");
    assert_eq!(inventory(&sb, url), "sku,fc,on_hand\nSKU-1,EAST,4\n", "a dry run applies nothing");

    sb.run(&["import", "inventory", levels.to_str().unwrap(), "--database-url", url]).expect_code(0);
    assert_eq!(inventory(&sb, url), "sku,fc,on_hand\nSKU-1,EAST,9\nSKU-2,EAST,3\n");
    let bad = sb.path("bad.csv");
    std::fs::write(&bad, "sku,fc,on_hand\nSKU-1,EAST,1\nDUO,EAST,1\n").unwrap();
    let run = sb.run(&["import", "inventory", bad.to_str().unwrap(), "--database-url", url]);
    run.expect_code(2);
    assert!(run.stderr.contains("DUO is a bundle"), "{run}");
    assert_eq!(inventory(&sb, url), "sku,fc,on_hand\nSKU-1,EAST,9\nSKU-2,EAST,3\n", "nothing of a refused file");

    let exported = sb.path("items-out.csv");
    sb.run(&["export", "items", "--output", exported.to_str().unwrap(), "--database-url", url]).expect_code(0);
    let text = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(
        text,
        "sku,title,kind,components,aliases\nSKU-1,,stock,,\nSKU-2,\"Cup, blue\",stock,,\nDUO,,bundle,SKU-1:1|SKU-2:1,\n"
    );
    let again = sb.run(&["import", "items", exported.to_str().unwrap(), "--database-url", url]);
    again.expect_code(0);
    assert!(again.stderr.contains("0 changed, 3 unchanged"), "{again}");
    let check = sb.run(&["check", "--database-url", url]);
    check.expect_code(0);
    assert!(check.stdout.contains("check: clean"), "{check}");
}

#[test]
fn import_refuses_a_missing_file_or_database() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "db.sqlite");
    let url = &db.url;
    let run = sb.run(&["import", "inventory", "nope.csv", "--database-url", url]);
    run.expect_code(2);
    assert!(run.stderr.contains("nope.csv"), "{run}");
    std::fs::write(sb.path("f.csv"), "sku,fc,on_hand\n").unwrap();
    let run = sb.run(&["import", "inventory", "f.csv", "--database-url", url]);
    run.expect_code(2);
    assert!(!db.has_schema(), "import never creates a database\n{run}");
    let run = sb.run(&["export", "inventory", "--database-url", url]);
    run.expect_code(2);
}

#[test]
fn bench_upload_smoke() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "bench.db");
    let run = sb.run(&["bench", "upload", "--rows", "3000", "--fcs", "3", "--database-url", &db.url]);
    run.expect_code(0);
    let last = run.stdout.lines().last().unwrap_or_default();
    let v: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}\n{run}"));
    assert_eq!((v["scenario"].as_str(), v["rows"].as_u64()), (Some("upload"), Some(3000)), "{run}");
    assert!(v["rows_per_s"].as_f64().is_some_and(|r| r > 0.0), "{run}");
    assert!(v["seconds"].is_number() && v["latency_ms"].is_object() && v["orders"] == 0, "{run}");
}
