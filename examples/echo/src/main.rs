//! `cargo run -p echo`: echoes every text and binary message unchanged, on
//! every path, on 127.0.0.1:$PORT (default 9001).
//!
//! Limits are opened up for conformance runs: Autobahn sends messages of
//! up to 16 MiB and floods on purpose.

use anyhow::Context as _;
use std::net::{Ipv4Addr, SocketAddr};
use xws::{Handler, HookResult, Limits, Message, Peer};
use xws_tokio::{Config, Xws};

/// Sends every message back to its sender.
struct Echo;

impl Handler for Echo {
    type Context = ();

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        peer.send(message)?;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().context("PORT must be a port number")?,
        Err(_) => 9001,
    };
    let config = Config {
        limits: Limits {
            max_message_size: 20 * 1024 * 1024,
            rate: None,
            max_connections: 50_000,
            ..Limits::default()
        },
        ..Config::default()
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = xws_tokio::listen(addr).with_context(|| format!("cannot listen on {addr}"))?;
    xws_tokio::serve(listener, Xws::with_config(Echo, config), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
