//! Several `serve` processes on one PostgreSQL database (issue 6): three
//! processes take a minute of mixed load (orders through the API and from
//! simulated eBay and Shopify, the latter by webhook; manual stock edits;
//! CSV uploads) while one of them is killed with SIGKILL every ~10 s and
//! restarted. Afterwards no order is lost or applied twice, stock is exact
//! and never oversold, every listing converges, no receiver ever saw a
//! listing's value go backwards, and `stocksync check` is clean.
//!
//! Clients do what a client of a crashing server must: a request that got
//! no answer is sent again, with the same `Idempotency-Key`, to another
//! process (a load balancer's retry); webhooks go to a live process.
//! `STOCKSYNC_TEST_MULTIPROCESS_SECS` shortens or lengthens the load (60 s).

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::ebay::{self, EbaySim};
use stocksync_channels::sim::shopify::{self, ShopifySim, WebhookTarget};
use stocksync_channels::sim::{self, Faults, api::ApiSim};
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_store::{NewChannel, NewListing, Store};

use crate::common::{Backend, PgDatabase, Sandbox, free_port, healthy};

const TOKEN: &str = "multi-process-test-token-0123456789";
const PROCESSES: usize = 3;
/// Sold SKUs, on every channel.
const SKUS: usize = 12;
/// SKUs only uploads set.
const UPLOADED: usize = 4;
const START_EAST: i64 = 30;
const START_WEST: i64 = 20;

fn sku(i: usize) -> String {
    format!("S-{i:02}")
}

/// The three processes, each on its own port, and which of them is up.
struct Fleet {
    sb: Sandbox,
    url: String,
    ports: Vec<u16>,
    children: Vec<Option<Child>>,
    up: Arc<Mutex<Vec<bool>>>,
}

impl Fleet {
    fn start(&mut self, i: usize) {
        let log = std::fs::File::create(self.sb.path(&format!("serve-{i}.log"))).unwrap();
        let child = self
            .sb
            .cmd()
            .args(["serve", "--database-url", &self.url, "--listen", &format!("127.0.0.1:{}", self.ports[i])])
            .env("STOCKSYNC_BOOTSTRAP_TOKEN", TOKEN)
            .env("STOCKSYNC_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start serve");
        self.children[i] = Some(child);
    }

    fn kill(&mut self, i: usize) {
        self.up.lock().unwrap()[i] = false;
        if let Some(mut c) = self.children[i].take() {
            c.kill().expect("SIGKILL");
            c.wait().unwrap();
        }
    }

    fn base(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i])
    }

    /// The servers' logs, for a failure message.
    fn logs(&self) -> String {
        (0..PROCESSES)
            .map(|i| {
                let log = std::fs::read_to_string(self.sb.path(&format!("serve-{i}.log"))).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                format!("--- serve {i} ---\n{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Sends a request to the live processes in turn until one answers with a
/// status other than 5xx, like a load balancer retrying an unanswered
/// request elsewhere; gives the status and body.
async fn send(
    client: &reqwest::Client,
    ports: &[u16],
    up: &Mutex<Vec<bool>>,
    first: usize,
    build: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for attempt in first.. {
        assert!(Instant::now() < deadline, "no process answered for a minute");
        let i = attempt % ports.len();
        if !up.lock().unwrap()[i] {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let api = format!("http://127.0.0.1:{}/api/v1", ports[i]);
        match build(client, &api).bearer_auth(TOKEN).timeout(Duration::from_secs(10)).send().await {
            Ok(r) if r.status().as_u16() < 500 && r.status().as_u16() != 409 => {
                let status = r.status().as_u16();
                return (status, r.json().await.unwrap_or(Value::Null));
            }
            // Killed mid-request, a 5xx, or the same key still in flight (409): again.
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    unreachable!()
}

async fn seed(url: &str, sims: &[sim::Running]) -> (i64, i64, i64) {
    let store = Store::open(url).expect("open the store");
    store.create_fc(FcSpec::new("EAST", "East", 1, true).unwrap()).await.unwrap();
    store.create_fc(FcSpec::new("WEST", "West", 2, true).unwrap()).await.unwrap();
    let all: Vec<String> = (0..SKUS).map(sku).chain((0..UPLOADED).map(|i| format!("U-{i}"))).collect();
    for s in &all {
        store.create_item(ItemDraft { sku: s.clone(), kind: "stock".into(), ..Default::default() }, "t").await.unwrap();
    }
    for s in (0..SKUS).map(sku) {
        store.set_stock(&s, "EAST", StockTarget::OnHand(START_EAST), None, "t").await.unwrap();
        store.set_stock(&s, "WEST", StockTarget::OnHand(START_WEST), None, "t").await.unwrap();
    }
    let channel = |name: &str, kind, url: String, creds: &str| {
        let settings = ChannelSettings { poll_interval_s: 1, ..ChannelSettings::defaults(kind) };
        NewChannel { name: name.into(), kind, base_url: Some(url), credentials_json: creds.into(), settings }
    };
    let ebay = store
        .create_channel(channel("ebay", ChannelKind::Ebay, sims[0].url(), r#"{"access_token":"ebay-token"}"#))
        .await;
    let shop = store
        .create_channel(channel(
            "shopify",
            ChannelKind::Shopify,
            sims[1].url(),
            r#"{"access_token":"shop-token","location_id":"7","webhook_secret":"hook-secret"}"#,
        ))
        .await;
    let own = store
        .create_channel(channel("store", ChannelKind::Api, sims[2].url(), r#"{"signing_secret":"api-secret"}"#))
        .await
        .unwrap();
    for s in &all {
        store.create_listing(own, NewListing { channel_sku: s.clone(), ..Default::default() }, "t").await.unwrap();
    }
    (ebay.unwrap().0, shop.unwrap().0, own.0)
}

#[test]
fn three_processes_one_killed_every_10_s_lose_nothing() {
    // PostgreSQL either way: once per CI run is enough.
    if Backend::chosen() == Backend::Postgres {
        println!("multi-process test: runs in the default pass (it is on PostgreSQL already)");
        return;
    }
    // The database is made and dropped outside the runtime: its client blocks.
    let Some(pg) = PgDatabase::create() else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    runtime.block_on(under_load(&pg));
}

async fn under_load(pg: &PgDatabase) {
    let secs: u64 = std::env::var("STOCKSYNC_TEST_MULTIPROCESS_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let ebay = EbaySim::new("ebay-token", Faults::default());
    let shop = ShopifySim::new("shop-token", 7, Faults::default());
    let receiver = ApiSim::new("api-secret", Faults::default());
    for s in (0..SKUS).map(sku) {
        ebay.add_item(ebay::ItemSeed { sku: s.clone(), quantity: 0, offer_ids: vec![] });
        shop.add_item(shopify::ItemSeed { sku: s, quantity: 0 });
    }
    let sims = vec![
        sim::spawn(ebay.router(), "127.0.0.1:0").await.unwrap(),
        sim::spawn(shop.router(), "127.0.0.1:0").await.unwrap(),
        sim::spawn(receiver.router(), "127.0.0.1:0").await.unwrap(),
    ];
    let (ebay_id, shop_id, own_id) = seed(&pg.url, &sims).await;
    let markets = Markets { ebay: ebay.clone(), shop: shop.clone(), receiver: receiver.clone(), ebay_id, shop_id };

    let ports: Vec<u16> = (0..PROCESSES).map(|_| free_port()).collect();
    let mut fleet = Fleet {
        sb: Sandbox::new(),
        url: pg.url.clone(),
        ports: ports.clone(),
        children: (0..PROCESSES).map(|_| None).collect(),
        up: Arc::new(Mutex::new(vec![false; PROCESSES])),
    };
    let client = crate::common::client();
    for i in 0..PROCESSES {
        fleet.start(i);
        healthy(&client, &fleet.base(i)).await;
        fleet.up.lock().unwrap()[i] = true;
    }
    let hook =
        |base: String| Some(WebhookTarget { url: format!("{base}/webhooks/{shop_id}"), secret: "hook-secret".into() });
    shop.set_webhook(hook(fleet.base(0)));

    let until = Instant::now() + Duration::from_secs(secs);
    let up = fleet.up.clone();
    let mut load = tokio::task::JoinSet::new();
    // Orders through the API, each sent until some process answers.
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    for t in 0..4usize {
        let (client, ports, up, acked) = (client.clone(), ports.clone(), up.clone(), acked.clone());
        load.spawn(async move {
            for n in 0.. {
                if Instant::now() >= until {
                    return;
                }
                let ext = format!("A-{t}-{n}");
                let body = json!({"external_id": ext, "lines": [
                    {"line_id": "1", "channel_sku": sku((t * 7 + n) % SKUS), "quantity": 1 + n % 2}]});
                let (status, answer) = send(&client, &ports, &up, t + n, |c, api| {
                    c.post(format!("{api}/channels/{own_id}/orders")).header("Idempotency-Key", &ext).json(&body)
                })
                .await;
                assert!(status == 200 || status == 201, "order {ext}: {status} {answer}");
                acked.lock().unwrap().insert(ext);
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        });
    }
    // Orders on the marketplaces: Shopify's by webhook (and polling), eBay's by polling.
    let placed: Arc<Mutex<Vec<(&'static str, String)>>> = Arc::default();
    {
        let (ebay, shop, placed) = (ebay.clone(), shop.clone(), placed.clone());
        load.spawn(async move {
            for n in 0.. {
                if Instant::now() >= until {
                    return;
                }
                let change = OrderChange::create(&[(sku((n * 5) % SKUS).as_str(), 1)]);
                let placed_on = if n % 2 == 0 {
                    ("shopify", shop.apply(change).unwrap().id)
                } else {
                    ("ebay", ebay.apply(change).unwrap().id)
                };
                placed.lock().unwrap().push(placed_on);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
    // Stock received by hand, exactly once each.
    let received: Arc<Mutex<BTreeMap<String, i64>>> = Arc::default();
    {
        let (client, ports, up, received) = (client.clone(), ports.clone(), up.clone(), received.clone());
        load.spawn(async move {
            for n in 0usize.. {
                if Instant::now() >= until {
                    return;
                }
                let (s, fc, delta) = (sku((n * 3) % SKUS), ["EAST", "WEST"][n % 2], 1 + (n % 3) as i64);
                let key = format!("adjust-{n}");
                let (status, answer) = send(&client, &ports, &up, n, |c, api| {
                    c.post(format!("{api}/inventory/{s}/{fc}/adjustments"))
                        .header("Idempotency-Key", &key)
                        .json(&json!({"delta": delta, "reason": "received"}))
                })
                .await;
                assert_eq!(status, 200, "adjustment {key}: {answer}");
                *received.lock().unwrap().entry(s).or_default() += delta;
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        });
    }
    // CSV uploads of the upload-only SKUs; the last one acknowledged stands.
    let uploaded: Arc<Mutex<i64>> = Arc::default();
    {
        let (client, ports, up, uploaded) = (client.clone(), ports.clone(), up.clone(), uploaded.clone());
        load.spawn(async move {
            for n in 1i64.. {
                if Instant::now() >= until {
                    return;
                }
                let csv: String = std::iter::once("sku,fc,on_hand\n".to_owned())
                    .chain((0..UPLOADED).map(|i| format!("U-{i},EAST,{}\n", n * 10 + i as i64)))
                    .collect();
                let (status, answer) = send(&client, &ports, &up, n as usize, |c, api| {
                    c.post(format!("{api}/uploads/inventory"))
                        .header("Idempotency-Key", format!("upload-{n}"))
                        .header("Content-Type", "text/csv")
                        .body(csv.clone())
                })
                .await;
                assert_eq!(status, 200, "upload {n}: {answer}");
                *uploaded.lock().unwrap() = n;
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
        });
    }

    // Kill one process every ~10 s, in turn, and start it again.
    let mut kills = 0;
    let mut restarts = Vec::new();
    let mut takeovers = tokio::task::JoinSet::new();
    while Instant::now() + Duration::from_secs(10) < until {
        tokio::time::sleep(Duration::from_secs(10)).await;
        let victim = kills % PROCESSES;
        let pid = fleet.children[victim].as_ref().map(Child::id).unwrap();
        fleet.kill(victim);
        takeovers.spawn(taken_over(pg.url.clone(), pid, Instant::now()));
        // The load balancer sends webhooks to a live process.
        shop.set_webhook(hook(fleet.base((victim + 1) % PROCESSES)));
        kills += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
        fleet.start(victim);
        restarts.push(healthy(&client, &fleet.base(victim)).await.as_millis());
        fleet.up.lock().unwrap()[victim] = true;
    }
    while let Some(r) = load.join_next().await {
        r.unwrap();
    }
    println!("multi-process test: {kills} kills, serving again after {restarts:?} ms");
    let taken: Vec<(i64, u128)> = takeovers.join_all().await;
    println!("multi-process test: (leases the killed process held, ms until others held them): {taken:?}");
    assert!(kills as u64 >= secs / 10 - 1, "{kills} kills in {secs} s");

    // Everything placed is imported once; everything converges.
    let acked = acked.lock().unwrap().clone();
    let placed = placed.lock().unwrap().clone();
    let received = received.lock().unwrap().clone();
    let uploaded = *uploaded.lock().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let outcome = loop {
        let outcome = settled(&client, &fleet, &pg.url, &markets, (&acked, &placed, &received, uploaded)).await;
        if outcome.is_ok() || Instant::now() > deadline {
            break outcome;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    if let Err(why) = outcome {
        panic!("not settled after 2 minutes: {why}\n{}", fleet.logs());
    }
    assert!(receiver.state().stale.is_empty(), "a value went backwards: {:?}", receiver.state().stale);
    println!(
        "multi-process test: {} API orders, {} marketplace orders, {} adjustments' units, {uploaded} uploads",
        acked.len(),
        placed.len(),
        received.values().sum::<i64>()
    );
    drop(fleet);
    let check = Sandbox::new().run(&["check", "--database-url", &pg.url]);
    check.expect_code(0);
}

/// Waits until no channel lease is held by the killed process `pid`;
/// returns how many it held and how long after `killed` the others had
/// them all. Panics after 30 s: a dead holder's channels must pass on.
async fn taken_over(url: String, pid: u32, killed: Instant) -> (i64, u128) {
    let held = move |url: &str| -> i64 {
        let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
        c.query_one("SELECT COUNT(*) FROM channel_leases WHERE holder LIKE $1", &[&format!("pid{pid}-%")])
            .unwrap()
            .get(0)
    };
    let u = url.clone();
    let at_kill = tokio::task::spawn_blocking(move || held(&u)).await.unwrap();
    loop {
        let u = url.clone();
        if tokio::task::spawn_blocking(move || held(&u)).await.unwrap() == 0 {
            return (at_kill, killed.elapsed().as_millis());
        }
        assert!(killed.elapsed() < Duration::from_secs(30), "process {pid} died 30 s ago and still holds leases");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The simulators and their channels' ids.
struct Markets {
    ebay: EbaySim,
    shop: ShopifySim,
    receiver: ApiSim,
    ebay_id: i64,
    shop_id: i64,
}

/// What the clients were told: acknowledged API orders, orders placed on
/// the marketplaces, units received per SKU, and the last upload.
type Told<'a> = (&'a BTreeSet<String>, &'a [(&'static str, String)], &'a BTreeMap<String, i64>, i64);

/// `Ok` once the database and every simulator agree with what the clients
/// were told; otherwise what still differs.
async fn settled(
    client: &reqwest::Client,
    fleet: &Fleet,
    url: &str,
    m: &Markets,
    (acked, placed, received, uploaded): Told<'_>,
) -> Result<(), String> {
    let url = url.to_owned();
    let orders: Vec<(String, String, i64)> = tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.query(
            "SELECT c.name, o.external_id, COUNT(*) FROM orders o JOIN channels c ON c.id = o.channel_id GROUP BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
    })
    .await
    .unwrap();
    if let Some(twice) = orders.iter().find(|o| o.2 != 1) {
        return Err(format!("order stored {} times: {twice:?}", twice.2));
    }
    let have: BTreeSet<(String, String)> = orders.into_iter().map(|(c, e, _)| (c, e)).collect();
    let missing_api = acked.iter().filter(|e| !have.contains(&("store".to_owned(), (*e).clone()))).count();
    let missing_market = placed.iter().filter(|(c, e)| !have.contains(&((*c).to_owned(), e.clone()))).count();
    if missing_api + missing_market > 0 {
        return Err(format!("{missing_api} acknowledged API orders and {missing_market} marketplace orders missing"));
    }
    if have.len() != acked.len() + placed.len() {
        return Err(format!("{} orders stored, {} placed", have.len(), acked.len() + placed.len()));
    }
    let base = fleet.base(0);
    let (ebay_view, shop_view, own) = (m.ebay.view(), m.shop.view(), m.receiver.state());
    for i in 0..SKUS + UPLOADED {
        let s = if i < SKUS { sku(i) } else { format!("U-{}", i - SKUS) };
        let r = client.get(format!("{base}/api/v1/inventory/{s}")).bearer_auth(TOKEN).send().await;
        let inv: Value = match r {
            Ok(r) => r.json().await.map_err(|e| e.to_string())?,
            Err(e) => return Err(e.to_string()),
        };
        let on_hand = inv["on_hand"].as_i64().unwrap();
        let want = if i < SKUS {
            START_EAST + START_WEST + received.get(&s).copied().unwrap_or(0)
        } else {
            uploaded * 10 + (i - SKUS) as i64
        };
        if on_hand != want {
            return Err(format!("{s}: on hand {on_hand}, expected {want}"));
        }
        if inv["available"].as_i64().unwrap() < 0 {
            return Err(format!("{s} oversold: {inv}"));
        }
        for l in inv["listings"].as_array().unwrap() {
            let quantity = l["quantity"].as_i64().unwrap();
            let channel = l["channel"].as_i64().unwrap();
            let shown = if channel == m.ebay_id {
                ebay_view.listings.get(&s).map(|v| v.quantity)
            } else if channel == m.shop_id {
                shop_view.listings.get(&s).map(|v| v.quantity)
            } else {
                own.listings.get(&s).map(|v| v.quantity)
            };
            if shown != Some(quantity) {
                return Err(format!("{s} on {channel}: shows {shown:?}, should show {quantity}"));
            }
        }
    }
    Ok(())
}
