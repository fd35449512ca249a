//! `check`: clean on a freshly migrated database, exit 1 naming the
//! invariant once the database has been tampered with (on either backend),
//! exit 2 (creating nothing) when there is no SQLite file at all.

use crate::common::{Backend, Sandbox, TestDb, seed_one_level};

const CLEAN: &str = "check: clean";

#[test]
fn check_on_a_fresh_database_is_clean() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "fresh.db");
    sb.run(&["migrate", "--database-url", &db.url]).expect_code(0);
    let run = sb.run(&["check", "--database-url", &db.url]);
    run.expect_code(0);
    assert!(run.stdout.contains(CLEAN), "{run}");
}

#[test]
fn check_on_a_missing_database_exits_2_and_creates_nothing() {
    let sb = Sandbox::new();
    let missing = sb.path("missing.db");
    let run = sb.run(&["check", "--database-url", &sb.url("missing.db")]);
    run.expect_code(2);
    assert!(run.stderr.contains("no database at"), "{run}");
    assert!(run.stderr.contains(&missing.display().to_string()), "the error should name the path\n{run}");
    assert!(!run.stdout.contains(CLEAN), "{run}");
    let left: Vec<_> = std::fs::read_dir(sb.dir.path())
        .expect("sandbox dir")
        .map(|e| e.expect("dir entry").file_name())
        .filter(|name| name != "tmp")
        .collect();
    assert!(left.is_empty(), "check created {left:?}");
}

#[test]
fn check_on_a_missing_relative_path_exits_2_and_creates_nothing() {
    let sb = Sandbox::new();
    let run = sb.run(&["check", "--database-url", "sqlite://missing.db"]);
    run.expect_code(2);
    assert!(run.stderr.contains("missing.db"), "the error should name the path\n{run}");
    assert!(!sb.path("missing.db").exists(), "check created the database\n{run}");
    assert!(!sb.path("missing.db-wal").exists() && !sb.path("missing.db-shm").exists(), "{run}");
}

#[test]
fn check_reports_a_level_that_disagrees_with_its_ledger() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "tampered.db");
    let url = &db.url;
    seed_one_level(url, 5);

    let before = sb.run(&["check", "--database-url", url]);
    before.expect_code(0);
    assert!(before.stdout.contains(CLEAN), "seeded database should be clean\n{before}");

    db.tamper("UPDATE stock_levels SET on_hand = on_hand + 1");
    assert_eq!(db.count("SELECT COUNT(*) FROM stock_levels"), 1);

    let after = sb.run(&["check", "--database-url", url]);
    after.expect_code(1);
    assert!(
        after.stdout.lines().any(|l| l.starts_with("conservation:") && l.contains("SKU-1 at EAST")),
        "expected a conservation violation for SKU-1 at EAST\n{after}"
    );
    assert!(!after.stdout.contains(CLEAN), "{after}");
    assert!(
        after.stdout.lines().last().is_some_and(|l| l.starts_with("check: ") && l.contains("violation")),
        "{after}"
    );
}

#[test]
fn check_reports_oversell() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "oversold.db");
    seed_one_level(&db.url, 2);

    // The schema's CHECK constraints forbid this state; bypass them, as
    // corruption or a hand edit would.
    let bypass = match db.backend() {
        Backend::Sqlite => "PRAGMA ignore_check_constraints = ON;",
        Backend::Postgres => "ALTER TABLE stock_levels DROP CONSTRAINT stock_levels_check;",
    };
    db.tamper(&format!("{bypass} UPDATE stock_levels SET committed = on_hand + 1;"));

    let run = sb.run(&["check", "--database-url", &db.url]);
    run.expect_code(1);
    assert!(run.stdout.lines().any(|l| l.starts_with("no oversell:")), "{run}");
}
