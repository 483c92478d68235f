//! `cargo run -p notifications`: notifications on 127.0.0.1:$PORT (default
//! 3000), stored in SQLite (`notifications.db`) or in the database
//! `DATABASE_URL` names (`postgres://…`).

use anyhow::Context as _;
use notifications::store::SqlStore;
use std::net::{Ipv4Addr, SocketAddr};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().context("PORT must be a port number")?,
        Err(_) => 3000,
    };
    let store = SqlStore::from_env()
        .await
        .context("cannot open the notification store (DATABASE_URL)")?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = xws_tokio::listen(addr).with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!("notifications on http://{addr}");
    notifications::server::serve(listener, store, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
