//! `migrate` and configuration handling.

use crate::common::{Run, Sandbox, raw};

#[test]
fn migrate_creates_a_new_database_then_reports_it_up_to_date() {
    let sb = Sandbox::new();
    let url = sb.url("new.db");
    assert!(!sb.path("new.db").exists());

    let first = sb.run(&["migrate", "--database-url", &url]);
    first.expect_code(0);
    assert!(sb.path("new.db").is_file(), "migrate did not create the file\n{first}");
    assert!(first.stderr.contains("applied migration(s)"), "{first}");

    let tables: i64 = raw(&sb.path("new.db"))
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'stock_levels'", [], |r| {
            r.get(0)
        })
        .expect("query schema");
    assert_eq!(tables, 1, "stock_levels missing after migrate");

    let second = sb.run(&["migrate", "--database-url", &url]);
    second.expect_code(0);
    assert!(second.stderr.contains("schema is up to date"), "{second}");
    assert!(!second.stderr.contains("applied migration"), "{second}");
}

#[test]
fn migrate_rejects_a_url_it_does_not_understand() {
    let sb = Sandbox::new();
    let run = sb.run(&["migrate", "--database-url", "mysql://x"]);
    run.expect_code(2);
    assert!(run.stderr.contains("mysql://x"), "the error should name the URL\n{run}");
}

#[test]
fn an_unsupported_url_is_a_usage_error_for_every_command() {
    let sb = Sandbox::new();
    for args in [
        &["check", "--database-url", "mysql://x"][..],
        &["bench", "flash-sale", "--orders", "10", "--stock", "5", "--database-url", "mysql://x"],
    ] {
        let run = sb.run(args);
        run.expect_code(2);
        assert!(run.stderr.contains("mysql://x"), "the error should name the URL\n{run}");
    }
}

#[test]
fn config_example_prints_toml_with_a_database_section() {
    let sb = Sandbox::new();
    let run = sb.run(&["config", "example"]);
    run.expect_code(0);
    assert!(run.stdout.contains("[database]"), "{run}");
    let parsed: toml::Table = toml::from_str(&run.stdout).expect("the example is valid TOML");
    assert!(parsed.contains_key("database"), "{run}");
}

#[test]
fn unknown_environment_setting_is_named_and_exits_2() {
    let sb = Sandbox::new();
    let run = Run::of(sb.cmd().env("STOCKSYNC__NOPE", "1").arg("check"));
    run.expect_code(2);
    assert!(run.stderr.contains("STOCKSYNC__NOPE"), "{run}");
    assert!(!sb.path("stocksync.db").exists(), "a bad configuration must not touch the default database");
}

#[test]
fn unknown_key_in_config_file_is_named_and_exits_2() {
    let sb = Sandbox::new();
    let file = sb.path("bad.toml");
    std::fs::write(&file, "[database]\nurl = \"sqlite://x.db\"\nulr_typo = \"x\"\n").expect("write config");
    let run = sb.run(&["--config", file.to_str().expect("UTF-8 path"), "check"]);
    run.expect_code(2);
    assert!(run.stderr.contains("ulr_typo"), "the error should name the unknown key\n{run}");
    assert!(!sb.path("x.db").exists(), "a bad configuration must not touch the database");
}

#[test]
fn config_file_and_environment_choose_the_database() {
    let sb = Sandbox::new();
    let file = sb.path("good.toml");
    std::fs::write(&file, format!("[database]\nurl = \"{}\"\n", sb.url("from-file.db"))).expect("write config");
    let config = file.to_str().expect("UTF-8 path");

    sb.run(&["--config", config, "migrate"]).expect_code(0);
    assert!(sb.path("from-file.db").is_file());

    let run =
        Run::of(sb.cmd().env("STOCKSYNC__DATABASE__URL", sb.url("from-env.db")).args(["--config", config, "migrate"]));
    run.expect_code(0);
    assert!(sb.path("from-env.db").is_file(), "the environment overrides the file\n{run}");

    let flag = sb.url("from-flag.db");
    let run = Run::of(sb.cmd().env("STOCKSYNC__DATABASE__URL", sb.url("from-env2.db")).args([
        "--config",
        config,
        "migrate",
        "--database-url",
        &flag,
    ]));
    run.expect_code(0);
    assert!(sb.path("from-flag.db").is_file(), "the flag overrides the environment\n{run}");
    assert!(!sb.path("from-env2.db").exists(), "{run}");
}
