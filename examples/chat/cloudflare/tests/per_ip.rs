//! `Limits::max_connections_per_ip` inside the Durable Object, under real
//! workerd: `cargo xtask test cloudflare` serves the chat worker again with
//! `XWS_MAX_CONNECTIONS_PER_IP=2` (`xtask/src/cloudflare/workers.rs`) and
//! gives its URL in `XWS_CF_CHAT_PER_IP_URL`. Every socket of this test
//! comes from one address, which wrangler passes as `CF-Connecting-IP`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use futures_util::SinkExt;
use tokio::{net::TcpStream, time::timeout};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Error as WsError, Message},
};

/// `XWS_MAX_CONNECTIONS_PER_IP` of the variant.
const PER_IP: usize = 2;
const WAIT: Duration = Duration::from_secs(10);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn ws_url(user: &str) -> String {
    let base = std::env::var("XWS_CF_CHAT_PER_IP_URL").expect(
        "XWS_CF_CHAT_PER_IP_URL must point at `wrangler dev`; run `cargo xtask test cloudflare`",
    );
    format!("{}/api/ws?user={user}", base.replacen("http", "ws", 1))
}

/// The upgrade's outcome: the socket, or the refusal's status.
async fn connect(user: &str) -> Result<Result<Socket, u16>> {
    match timeout(WAIT, connect_async(ws_url(user)))
        .await
        .context("the upgrade timed out")?
    {
        Ok((socket, _)) => Ok(Ok(socket)),
        Err(WsError::Http(response)) => Ok(Err(response.status().as_u16())),
        Err(other) => bail!("the upgrade failed: {other}"),
    }
}

#[tokio::test]
async fn a_client_address_holds_the_per_ip_limit_then_gets_429() -> Result<()> {
    let mut held = Vec::new();
    for n in 0..PER_IP {
        match connect(&format!("held-{n}")).await? {
            Ok(socket) => held.push(socket),
            Err(status) => bail!("socket {n} of {PER_IP} refused with {status}"),
        }
    }
    match connect("one-too-many").await? {
        Err(status) => ensure!(status == 429, "over the per-IP limit: {status}"),
        Ok(_) => bail!("socket number {} from one address was accepted", PER_IP + 1),
    }
    // A closed socket frees its place once the object saw the close.
    let mut first = held.remove(0);
    first.send(Message::Close(None)).await?;
    drop(first);
    let deadline = Instant::now() + WAIT;
    loop {
        match connect("in-the-freed-place").await? {
            Ok(socket) => {
                held.push(socket);
                break;
            }
            Err(429) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => bail!("after a close, the upgrade still answered {status}"),
        }
    }
    for mut socket in held {
        let _ = socket.close(None).await;
    }
    Ok(())
}
