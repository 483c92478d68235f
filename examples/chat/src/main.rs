//! `cargo run -p chat`: the chat on 127.0.0.1:$PORT (default 3000).
//! With `XWS_REDIS_URL` set, every chat process on that Redis (and
//! `XWS_REDIS_CHANNEL`, default `xws-chat`) shares the same rooms.

use anyhow::Context as _;
use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
};
use tracing_subscriber::EnvFilter;
use xws_redis::{RedisBroker, RedisBrokerConfig};
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
    let mut xws = Xws::new(chat::ChatHandler::from_env());
    if let Ok(url) = std::env::var("XWS_REDIS_URL") {
        let channel = std::env::var("XWS_REDIS_CHANNEL").unwrap_or_else(|_| "xws-chat".into());
        let config = RedisBrokerConfig::new(url).with_channel(&channel);
        let broker = RedisBroker::connect(config)
            .await
            .context("XWS_REDIS_URL is set but the Redis broker cannot start")?;
        tracing::info!(%channel, "rooms shared with the other nodes through Redis");
        xws = xws.with_broker(Arc::new(broker));
    }
    let options = chat::server::Options::from_env();
    if options.refuse_websocket {
        tracing::warn!("refusing WebSocket upgrades: clients use the SSE + POST fallback");
    }
    tracing::info!("chat on http://{addr} (WebSocket at ws://{addr}/api/ws)");
    chat::server::serve_with(listener, xws, options, shutdown_signal()).await?;
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
