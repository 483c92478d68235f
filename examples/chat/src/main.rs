//! `cargo run -p chat`: the chat on 127.0.0.1:$PORT (default 3000), or
//! `$HOST:$PORT`.
//! With `XWS_REDIS_URL` set, every chat process on that Redis (and
//! `XWS_REDIS_CHANNEL`, default `xws-chat`) shares the same rooms, their
//! history and presence. Rooms keep their last `CHAT_HISTORY_SIZE` (100)
//! messages for `CHAT_HISTORY_TTL_SECS` (300); `CHAT_HISTORY_SIZE=0` makes
//! rooms plain topics, without history or presence (the benchmark's
//! baseline for what they cost). `XWS_PERMESSAGE_DEFLATE=1` turns
//! permessage-deflate on (browsers offer it).

use anyhow::Context as _;
use std::sync::Arc;
use tracing_subscriber::EnvFilter;
use xws_redis::{RedisBroker, RedisBrokerConfig, RedisStreams};
use xws_tokio::Xws;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let listener = listener_from_env()?;
    let addr = listener.local_addr()?;
    let retention = chat::history::retention_from_env().map_err(anyhow::Error::msg)?;
    let streams = chat::history::stream_config(retention);
    let handler = chat::ChatHandler::from_env_with_jwks()
        .await
        .context("CHAT_JWKS_URL")?;
    let mut xws = Xws::with_config(handler, config_from_env()?);
    let history = retention.size > 0;
    if let Ok(url) = std::env::var("XWS_REDIS_URL") {
        let channel = std::env::var("XWS_REDIS_CHANNEL").unwrap_or_else(|_| "xws-chat".into());
        let config = RedisBrokerConfig::new(url).with_channel(&channel);
        let broker = RedisBroker::connect(config.clone())
            .await
            .context("XWS_REDIS_URL is set but the Redis broker cannot start")?;
        xws = xws.with_broker(Arc::new(broker));
        if history {
            let store = RedisStreams::new(config).context("the Redis stream store")?;
            xws = xws.with_stream_store(streams, Arc::new(store));
        }
        tracing::info!(
            %channel,
            size = retention.size,
            ttl_secs = retention.ttl.as_secs(),
            "rooms, their history and presence shared with the other nodes through Redis"
        );
    } else {
        if history {
            xws = xws.with_streams(streams);
        }
        tracing::info!(
            size = retention.size,
            ttl_secs = retention.ttl.as_secs(),
            "rooms keep their last messages in memory"
        );
    }
    if !history {
        tracing::info!("CHAT_HISTORY_SIZE=0: rooms are plain topics, without history or presence");
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

/// 127.0.0.1:$PORT (default 3000), or `HOST` instead of 127.0.0.1 (a
/// container sets `HOST=0.0.0.0`).
fn listener_from_env() -> anyhow::Result<tokio::net::TcpListener> {
    let Ok(host) = std::env::var("HOST") else {
        return Ok(xws_tokio::listen_on_port_env(3000)?);
    };
    let ip: std::net::IpAddr = host
        .parse()
        .with_context(|| format!("HOST must be an IP address, not {host:?}"))?;
    let port = match std::env::var("PORT") {
        Ok(port) => port
            .parse()
            .with_context(|| format!("PORT must be a port number, not {port:?}"))?,
        Err(_) => 3000,
    };
    let addr = std::net::SocketAddr::new(ip, port);
    xws_tokio::listen(addr).with_context(|| format!("cannot listen on {addr}"))
}

/// The server's limits, with `CHAT_RATE_LIMIT` (messages per second and
/// peer, or `off`) overriding the default rate limit, and
/// permessage-deflate on with `XWS_PERMESSAGE_DEFLATE=1`.
fn config_from_env() -> anyhow::Result<xws_tokio::Config> {
    let mut config = xws_tokio::Config {
        permessage_deflate: std::env::var("XWS_PERMESSAGE_DEFLATE").is_ok_and(|v| v == "1"),
        ..xws_tokio::Config::default()
    };
    if let Ok(rate) = std::env::var("CHAT_RATE_LIMIT") {
        config.limits.rate = match rate.trim() {
            "off" | "0" => None,
            n => Some(xws::RateLimit::per_second(n.parse().context(
                "CHAT_RATE_LIMIT must be messages per second, or `off`",
            )?)),
        };
    }
    Ok(config)
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
