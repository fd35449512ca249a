//! `stocksync sim KIND`: run a simulated marketplace on its own, for tests
//! against a real socket or for trying stocksync without marketplace accounts.

use std::process::ExitCode;

use stocksync_channels::sim::ebay::EbaySim;
use stocksync_channels::sim::shopify::{ShopifySim, WebhookTarget};
use stocksync_channels::sim::{self, Faults, api::ApiSim};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which marketplace: api, ebay or shopify.
    pub kind: String,
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// The `signing_secret` pushes must be signed with (api).
    #[arg(long, default_value = "demo-signing-secret")]
    pub secret: String,
    /// The access token clients must send (ebay, shopify).
    #[arg(long, default_value = "sim-token")]
    pub token: String,
    /// Shopify's location id for inventory.
    #[arg(long, default_value_t = 1)]
    pub location_id: u64,
    /// Where Shopify sends order webhooks (e.g. http://127.0.0.1:8080/webhooks/2), signed with --secret.
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// Faults as JSON, e.g. '{"seed":1,"throttle":0.1,"retry_after_s":1}'.
    #[arg(long)]
    pub faults: Option<String>,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let faults: Faults = match &args.faults {
        Some(json) => match serde_json::from_str(json) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: --faults: {e}");
                return Ok(ExitCode::from(2));
            }
        },
        None => Faults::default(),
    };
    let router = match args.kind.as_str() {
        "api" => ApiSim::new(args.secret.clone(), faults).router(),
        "ebay" => EbaySim::new(args.token.clone(), faults).router(),
        "shopify" => {
            let shop = ShopifySim::new(args.token.clone(), args.location_id, faults);
            if let Some(url) = &args.webhook_url {
                shop.set_webhook(Some(WebhookTarget { url: url.clone(), secret: args.secret.clone() }));
            }
            shop.router()
        }
        other => {
            eprintln!("error: no simulator for {other:?} (available: api, ebay, shopify)");
            return Ok(ExitCode::from(2));
        }
    };
    let running = sim::spawn(router, &args.listen).await?;
    println!(
        "{} simulator listening on {} (control: /_sim/state, /_sim/faults, /_sim/orders)",
        args.kind,
        running.url()
    );
    tokio::signal::ctrl_c().await?;
    Ok(ExitCode::SUCCESS)
}
