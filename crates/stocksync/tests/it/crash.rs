//! Crash safety on SQLite (issue 6): `kill -9` while orders are being
//! acknowledged, during `bench ingest`, and during a CSV import. After a
//! restart every acknowledged order is there, nothing is half-applied, and
//! `check` is clean. The time to serve again is printed (not asserted: this
//! machine is shared).

use std::collections::BTreeSet;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Sandbox, free_port, healthy};

const TOKEN: &str = "crash-test-bootstrap-token-0123456789";

fn serve(sb: &Sandbox, url: &str, port: u16) -> Child {
    sb.cmd()
        .args(["serve", "--database-url", url, "--listen", &format!("127.0.0.1:{port}")])
        .env("STOCKSYNC_BOOTSTRAP_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve")
}

async fn call(client: &reqwest::Client, method: reqwest::Method, url: String, body: Value) -> (u16, Value) {
    let r = client.request(method, url).bearer_auth(TOKEN).json(&body).send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_orders_are_acknowledged_loses_none() {
    let sb = Sandbox::new();
    let url = sb.url("crash.db");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let api = format!("{base}/api/v1");
    let client = crate::common::client();
    let mut server = serve(&sb, &url, port);
    healthy(&client, &base).await;
    use reqwest::Method;
    call(
        &client,
        Method::POST,
        format!("{api}/fulfillment-centers"),
        json!({"code": "EAST", "name": "East", "priority": 1}),
    )
    .await;
    for i in 0..20 {
        let sku = format!("K-{i}");
        call(&client, Method::POST, format!("{api}/items"), json!({"sku": sku})).await;
        call(&client, Method::PUT, format!("{api}/inventory/{sku}/EAST"), json!({"on_hand": 50})).await;
    }
    let (_, ch) = call(&client, Method::POST, format!("{api}/channels"), json!({"name": "shop", "kind": "api"})).await;
    let channel = ch["id"].as_i64().expect("channel id");

    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8 {
        let (client, api, acked) = (client.clone(), api.clone(), acked.clone());
        tasks.spawn(async move {
            for n in 0.. {
                let ext = format!("C-{t}-{n}");
                let body = json!({"external_id": ext, "lines": [{"line_id": "1", "channel_sku": format!("K-{}", n % 20), "quantity": 1}]});
                match client.post(format!("{api}/channels/{channel}/orders")).bearer_auth(TOKEN).json(&body).send().await {
                    Ok(r) if r.status().as_u16() == 201 => {
                        acked.lock().unwrap().insert(ext);
                    }
                    _ => return,
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    server.kill().expect("SIGKILL the server");
    server.wait().unwrap();
    while tasks.join_next().await.is_some() {}
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "the server acknowledged orders before it was killed: {}", acked.len());

    let mut server = serve(&sb, &url, port);
    let up = healthy(&client, &base).await;
    println!("crash test: serving again {} ms after the restart", up.as_millis());
    let mut present = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = match &cursor {
            Some(c) => format!("{api}/orders?limit=1000&cursor={c}"),
            None => format!("{api}/orders?limit=1000"),
        };
        let r = client.get(page).bearer_auth(TOKEN).send().await.unwrap();
        let v: Value = r.json().await.unwrap();
        for o in v["orders"].as_array().unwrap() {
            present.insert(o["external_id"].as_str().unwrap().to_owned());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let lost: Vec<&String> = acked.difference(&present).collect();
    assert!(lost.is_empty(), "{} acknowledged orders lost: {lost:?}", lost.len());
    server.kill().unwrap();
    server.wait().unwrap();
    sb.run(&["check", "--database-url", &url]).expect_code(0);
}

/// `kill -9` of `bench ingest` while its clients submit orders: the
/// database is consistent (`check`) and `serve` answers on it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_bench_ingest_leaves_a_consistent_database() {
    let sb = Sandbox::new();
    let url = sb.url("ingest.db");
    let mut bench = sb
        .cmd()
        .args(["bench", "ingest", "--orders", "1000000", "--skus", "2000", "--database-url", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bench ingest");
    // Kill it once orders are committing.
    let deadline = Instant::now() + Duration::from_secs(120);
    let orders = |path: &std::path::Path| -> i64 {
        let conn = crate::common::raw(path);
        conn.query_row("SELECT COUNT(*) FROM orders", [], |r| r.get(0)).unwrap_or(0)
    };
    while !sb.path("ingest.db").exists() || orders(&sb.path("ingest.db")) < 1000 {
        assert!(Instant::now() < deadline, "bench ingest committed no orders");
        assert!(bench.try_wait().unwrap().is_none(), "bench ingest ended before it was killed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    bench.kill().expect("SIGKILL bench ingest");
    bench.wait().unwrap();
    let before = orders(&sb.path("ingest.db"));

    sb.run(&["check", "--database-url", &url]).expect_code(0);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = crate::common::client();
    let mut server = serve(&sb, &url, port);
    let up = healthy(&client, &base).await;
    println!(
        "crash test: bench ingest killed after {before} orders; serving again {} ms after the restart",
        up.as_millis()
    );
    let r = client.get(format!("{base}/api/v1/orders?limit=1")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(orders(&sb.path("ingest.db")), before, "every committed order is still there");
}

#[test]
fn kill_9_during_a_csv_import_applies_all_or_nothing() {
    let sb = Sandbox::new();
    let url = sb.url("import.db");
    let items = 20_000;
    // The catalog: items, each at two FCs.
    let mut catalog = String::from("sku,title,kind,components,aliases\n");
    for i in 0..items {
        catalog.push_str(&format!("S-{i:05},,stock,,\n"));
    }
    std::fs::write(sb.path("items.csv"), catalog).unwrap();
    sb.run(&["migrate", "--database-url", &url]).expect_code(0);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = stocksync_store::Store::open(&url).unwrap();
        for code in ["EAST", "WEST"] {
            store.create_fc(stocksync_core::catalog::FcSpec::new(code, code, 1, true).unwrap()).await.unwrap();
        }
    });
    sb.run(&["import", "items", "items.csv", "--database-url", &url]).expect_code(0);
    let mut levels = String::from("sku,fc,on_hand\n");
    for i in 0..items {
        for fc in ["EAST", "WEST"] {
            levels.push_str(&format!("S-{i:05},{fc},7\n"));
        }
    }
    std::fs::write(sb.path("levels.csv"), levels).unwrap();

    // Kill the import at a few points of its life; each time all or nothing.
    for delay_ms in [150u64, 400, 800] {
        let mut child = sb
            .cmd()
            .args(["import", "inventory", "levels.csv", "--database-url", &url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let finished = child.wait().unwrap().success();
        let conn = crate::common::raw(&sb.path("import.db"));
        let set: i64 = conn.query_row("SELECT COUNT(*) FROM stock_levels WHERE on_hand = 7", [], |r| r.get(0)).unwrap();
        assert!(
            set == 0 || set == 2 * items as i64,
            "after a kill at {delay_ms} ms, {set} levels were set: half-applied"
        );
        sb.run(&["check", "--database-url", &url]).expect_code(0);
        println!(
            "crash test: import killed at {delay_ms} ms: {}",
            if set == 0 {
                "nothing applied"
            } else if finished {
                "finished first"
            } else {
                "all applied"
            }
        );
        if set != 0 {
            break;
        }
    }
}
