//! `cargo run -p dashboard`: live metrics on 127.0.0.1:$PORT (default 3000),
//! published every `METRICS_INTERVAL_MS` (default 1000).

use anyhow::Context as _;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let interval = match std::env::var("METRICS_INTERVAL_MS") {
        Ok(ms) => Duration::from_millis(
            ms.parse()
                .context("METRICS_INTERVAL_MS must be milliseconds")?,
        ),
        Err(_) => Duration::from_secs(1),
    };
    let listener = xws_tokio::listen_on_port_env(3000)?;
    let addr = listener.local_addr()?;
    tracing::info!("dashboard on http://{addr}");
    dashboard::server::serve(listener, interval, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
