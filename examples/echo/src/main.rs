//! `cargo run -p echo`: echoes every text and binary message unchanged, on
//! every path, on 127.0.0.1:$PORT (default 9001).
//!
//! Limits are opened up for conformance runs: Autobahn sends messages of
//! up to 16 MiB and floods on purpose. `XWS_PERMESSAGE_DEFLATE=1` turns
//! permessage-deflate on (Autobahn's 12.* and 13.* cases, the bench's
//! compressed runs).

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

/// `ECHO_MAX_CONNECTIONS`, else 50,000: `cargo xtask bench --connections N` holds more.
fn max_connections() -> anyhow::Result<usize> {
    match std::env::var("ECHO_MAX_CONNECTIONS") {
        Ok(value) => Ok(value.parse()?),
        Err(_) => Ok(50_000),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let config = Config {
        limits: Limits {
            max_message_size: 20 * 1024 * 1024,
            rate: None,
            max_connections: max_connections()?,
            ..Limits::default()
        },
        permessage_deflate: std::env::var("XWS_PERMESSAGE_DEFLATE").is_ok_and(|v| v == "1"),
        ..Config::default()
    };
    let listener = xws_tokio::listen_on_port_env(9001)?;
    xws_tokio::serve(listener, Xws::with_config(Echo, config), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
