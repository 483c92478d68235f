//! `cargo run -p import-progress`: live import progress on
//! 127.0.0.1:$PORT (default 3000); `IMPORT_STEP_MS` sets the pause between
//! batches (default 100).

use anyhow::Context as _;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let step_delay = match std::env::var("IMPORT_STEP_MS") {
        Ok(ms) => Duration::from_millis(ms.parse().context("IMPORT_STEP_MS must be milliseconds")?),
        Err(_) => import_progress::STEP_DELAY,
    };
    let listener = xws_tokio::listen_on_port_env(3000)?;
    let addr = listener.local_addr()?;
    tracing::info!("import progress on http://{addr}");
    import_progress::server::serve(listener, step_delay, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
