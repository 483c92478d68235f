//! `cargo run -p notifications`: notifications on 127.0.0.1:$PORT (default
//! 3000), stored in SQLite (`notifications.db`) or in the database
//! `DATABASE_URL` names (`postgres://…`).

use anyhow::Context as _;
use notifications::store::SqlStore;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let store = SqlStore::from_env()
        .await
        .context("cannot open the notification store (DATABASE_URL)")?;
    let listener = xws_tokio::listen_on_port_env(3000)?;
    let addr = listener.local_addr()?;
    tracing::info!("notifications on http://{addr}");
    notifications::server::serve(listener, store, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
