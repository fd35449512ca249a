//! The UI in a real headless Chromium through WebDriver (Debian's
//! chromedriver). One test walks a seller's session end to end and writes a
//! screenshot of every page to `<target>/ui-screenshots/`. In CI
//! (`CI=true`) a missing chromedriver fails the test; elsewhere it is
//! skipped with a printed reason.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use stocksync::workers::channels::Channels;
use stocksync::workers::push::PushWorker;
use stocksync_channels::http::RetryPolicy;
use stocksync_channels::sim::{self, Faults, api::ApiSim};
use stocksync_core::auth::Role;
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_store::{NewChannel, NewListing};

use super::support::{PASSWORD, Ui};

const SECRET: &str = "browser-test-secret";
/// How long a page may take to show what a step waits for.
const WAIT: Duration = Duration::from_secs(10);

/// chromedriver on a free port, killed when dropped.
struct Driver {
    child: std::process::Child,
    url: String,
    profile: tempfile::TempDir,
}

impl Driver {
    /// `None` (with the reason printed) when this machine has no chromedriver, outside CI.
    async fn start() -> Option<Self> {
        let found =
            std::process::Command::new("chromedriver").arg("--version").output().is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but chromedriver is not installed: the browser tests must run in CI (.ci/run installs chromium-driver)"
            );
            println!(
                "skipping the browser test: chromedriver is not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(Self { child, url: format!("http://127.0.0.1:{port}"), profile: tempfile::tempdir().unwrap() })
    }

    async fn client(&self) -> Client {
        let mut caps = serde_json::Map::new();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ];
        let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", self.profile.path().display()));
        caps.insert("goog:chromeOptions".into(), json!({ "args": args }));
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a WebDriver session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Our own child, by its handle; chromedriver ends the browser it started.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"), PathBuf::from);
    let dir = target.join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
}

async fn text(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css}: {e}")).click().await.expect("click");
}

async fn fill(c: &Client, css: &str, value: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css}: {e}"));
    el.clear().await.expect("clear");
    el.send_keys(value).await.expect("type");
}

/// Waits until the page's source contains `needle`.
async fn wait_for_text(c: &Client, needle: &str) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let src = c.source().await.expect("page source");
        if src.contains(needle) {
            return src;
        }
        assert!(std::time::Instant::now() < deadline, "the page never showed {needle:?}:\n{src}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_works_through_every_page_in_chromium() {
    let Some(driver) = Driver::start().await else { return };
    let ui = Ui::new().await;
    let store = ui.store.clone();
    // A store whose quantities go to the `api` simulator.
    let receiver = ApiSim::new(SECRET, Faults::default());
    let _receiver_run = sim::spawn(receiver.router(), "127.0.0.1:0").await.unwrap();
    store.create_fc(FcSpec::new("EAST", "East warehouse", 1, true).unwrap()).await.unwrap();
    store.create_fc(FcSpec::new("WEST", "West warehouse", 2, true).unwrap()).await.unwrap();
    store
        .create_item(
            ItemDraft { sku: "MUG".into(), title: Some("Blue mug".into()), kind: "stock".into(), ..Default::default() },
            "t",
        )
        .await
        .unwrap();
    store.set_stock("MUG", "EAST", StockTarget::OnHand(5), Some("delivery"), "t").await.unwrap();
    let channel = store
        .create_channel(NewChannel {
            name: "my-store".into(),
            kind: ChannelKind::Api,
            base_url: Some(_receiver_run.url()),
            credentials_json: format!(r#"{{"signing_secret":"{SECRET}"}}"#),
            settings: ChannelSettings::defaults(ChannelKind::Api),
        })
        .await
        .unwrap()
        .0;
    store
        .create_listing(
            stocksync_core::ChannelId(channel),
            NewListing { channel_sku: "MUG".into(), ..Default::default() },
            "t",
        )
        .await
        .unwrap();
    let policy = RetryPolicy { retries: 0, min_delay: Duration::from_millis(1), ..RetryPolicy::default() };
    let worker = PushWorker::new(store.clone(), Channels::new(store.clone(), policy), ui.state.latency.clone());
    worker.run_once().await.unwrap();
    assert_eq!(receiver.state().listings["MUG"].quantity, 5);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = ui.router.clone();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let c = driver.client().await;

    // Sign in.
    c.goto(&format!("{base}/orders")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/login"));
    shot(&c, "01-login").await;
    fill(&c, "#name", "admin").await;
    fill(&c, "#password", PASSWORD).await;
    click(&c, "#sign-in").await;
    wait_for_text(&c, "<h1>Orders</h1>").await;

    // An order placed on the store (through the API, as the seller's shop does) shows with its FC.
    let token = "browser-test-token-0123456789abcdef";
    store.create_token("shop", Role::Operator, token).await.unwrap();
    let res = crate::common::client()
        .post(format!("{base}/api/v1/channels/{channel}/orders"))
        .bearer_auth(token)
        .json(&json!({"external_id": "WEB-1001", "lines": [{"line_id": "1", "channel_sku": "MUG", "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    worker.run_once().await.unwrap();
    assert_eq!(receiver.state().listings["MUG"].quantity, 4, "the sale reached the store");
    c.goto(&format!("{base}/orders")).await.unwrap();
    let row = text(&c, "#orders tbody tr").await;
    assert!(
        row.contains("my-store") && row.contains("WEB-1001") && row.contains("EAST") && row.contains("allocated"),
        "{row}"
    );

    // An order placed on the eBay simulator is polled in and shows with its FC too.
    let cup = ItemDraft { sku: "CUP".into(), title: Some("Cup".into()), kind: "stock".into(), ..Default::default() };
    store.create_item(cup, "t").await.unwrap();
    store.set_stock("CUP", "WEST", StockTarget::OnHand(3), Some("delivery"), "t").await.unwrap();
    let ebay = stocksync_channels::sim::ebay::EbaySim::new("ebay-token", Faults::default());
    let ebay_run = sim::spawn(ebay.router(), "127.0.0.1:0").await.unwrap();
    ebay.add_item(stocksync_channels::sim::ebay::ItemSeed { sku: "CUP".into(), quantity: 3, offer_ids: vec![] });
    let ebay_channel = store
        .create_channel(NewChannel {
            name: "ebay".into(),
            kind: ChannelKind::Ebay,
            base_url: Some(ebay_run.url()),
            credentials_json: r#"{"access_token":"ebay-token"}"#.into(),
            settings: ChannelSettings::defaults(ChannelKind::Ebay),
        })
        .await
        .unwrap()
        .0;
    let channels = Channels::new(store.clone(), policy);
    let import = stocksync::workers::import::ImportWorker::new(store.clone(), channels.clone());
    let live = channels.load().await.unwrap().into_iter().find(|l| l.view.id == ebay_channel).unwrap();
    import.sync_listings(&live).await.unwrap();
    let placed = ebay.apply(stocksync_channels::sim::control::OrderChange::create(&[("CUP", 1)])).unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(import.poll(&live).await.unwrap().created, 1);
    c.goto(&format!("{base}/orders?channel={ebay_channel}")).await.unwrap();
    let row = text(&c, "#orders tbody tr").await;
    assert!(row.contains("ebay") && row.contains(&placed.id) && row.contains("WEST"), "{row}");
    c.goto(&format!("{base}/orders?channel={channel}")).await.unwrap();
    shot(&c, "02-orders").await;
    click(&c, "#orders tbody tr a").await;
    assert!(text(&c, "#order-fcs").await.contains("EAST"));
    wait_for_text(&c, "order_allocated").await;
    shot(&c, "03-order").await;

    // Editing a quantity makes the store receive the new value.
    c.goto(&format!("{base}/inventory/MUG")).await.unwrap();
    c.find(Locator::Css("#fc")).await.unwrap().select_by_value("EAST").await.unwrap();
    c.find(Locator::Css("#mode")).await.unwrap().select_by_value("available").await.unwrap();
    fill(&c, "#value", "2").await;
    fill(&c, "#reason", "broken in the warehouse").await;
    click(&c, "#save-stock").await;
    wait_for_text(&c, "MUG at EAST: on hand 3, committed 1, available 2").await;
    worker.run_once().await.unwrap();
    assert_eq!(receiver.state().listings["MUG"].quantity, 2, "the simulator received the edited value");
    c.refresh().await.unwrap();
    wait_for_text(&c, "state-in_sync").await;
    shot(&c, "04-inventory-item").await;
    c.goto(&format!("{base}/inventory")).await.unwrap();
    shot(&c, "05-inventory").await;

    // Switching import orders off shows the warning.
    c.goto(&format!("{base}/integrations/{channel}")).await.unwrap();
    assert!(c.find(Locator::Css("[data-warning=import_orders]")).await.is_err());
    click(&c, "#import_orders").await;
    let note = c.find(Locator::Css("#import-off-note")).await.unwrap();
    assert!(note.is_displayed().await.unwrap(), "the script shows the warning as soon as the box is cleared");
    click(&c, "#save-settings").await;
    let warning = text(&c, "[data-warning=import_orders]").await;
    assert!(warning.contains("deduct nothing"), "{warning}");
    assert!(!store.channel(channel).await.unwrap().unwrap().settings.import_orders);
    shot(&c, "06-integration").await;
    c.goto(&format!("{base}/integrations")).await.unwrap();
    shot(&c, "07-integrations").await;

    // A CSV with a bad line shows that line's error and applies nothing.
    let csv = ui.sb.path("stock.csv");
    std::fs::write(&csv, "sku,fc,on_hand\nMUG,EAST,9\nMUG,WEST,many\n").unwrap();
    c.goto(&format!("{base}/uploads")).await.unwrap();
    c.find(Locator::Css("#file")).await.unwrap().send_keys(&csv.display().to_string()).await.unwrap();
    click(&c, "#apply").await;
    let errors = text(&c, "#upload-errors").await;
    assert!(errors.contains("line 3, column on_hand:") && errors.contains("not a whole number"), "{errors}");
    assert_eq!(store.inventory("MUG").await.unwrap().unwrap().totals.on_hand, 3, "nothing applied");
    shot(&c, "08-upload-errors").await;

    // A form whose CSRF token was removed is refused.
    c.goto(&format!("{base}/inventory/MUG")).await.unwrap();
    c.execute("document.querySelector('#change-stock input[name=csrf]').remove()", vec![]).await.unwrap();
    fill(&c, "#value", "50").await;
    click(&c, "#save-stock").await;
    wait_for_text(&c, "<h1>Form expired</h1>").await;
    assert_eq!(store.inventory("MUG").await.unwrap().unwrap().totals.available, 2);
    shot(&c, "09-csrf-refused").await;

    // The remaining pages, for the record.
    for (path, name) in [
        ("/", "10-dashboard"),
        ("/items", "11-items"),
        ("/items/MUG", "12-item"),
        ("/fcs", "13-fcs"),
        ("/activity", "14-activity"),
    ] {
        c.goto(&format!("{base}{path}")).await.unwrap();
        text(&c, "h1").await;
        shot(&c, name).await;
    }
    assert!(c.source().await.unwrap().contains("accepted"), "the activity page lists the pushes");

    // Sign out.
    click(&c, "header .signout button").await;
    text(&c, "#sign-in").await;
    c.goto(&format!("{base}/")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/login"));
    c.close().await.unwrap();
}
