//! `cargo run -p chat`: the chat on 127.0.0.1:$PORT (default 3000).

use anyhow::Context as _;
use std::net::{Ipv4Addr, SocketAddr};
use tracing_subscriber::EnvFilter;
use xws_tokio::Xws;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().context("PORT must be a port number")?,
        Err(_) => 3000,
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = xws_tokio::listen(addr).with_context(|| format!("cannot listen on {addr}"))?;
    let xws = Xws::new(chat::ChatHandler::from_env());
    tracing::info!("chat on http://{addr} (WebSocket at ws://{addr}/api/ws)");
    chat::server::serve(listener, xws, shutdown_signal()).await?;
    tracing::info!("chat stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
