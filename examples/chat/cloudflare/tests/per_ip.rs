//! `Limits::max_connections_per_ip` inside the Durable Object, under real
//! workerd: `cargo xtask test cloudflare` serves the chat worker again with
//! `XWS_MAX_CONNECTIONS_PER_IP=2` (`xtask/src/cloudflare/workers.rs`) and
//! gives its URL in `XWS_CF_CHAT_PER_IP_URL`. Every socket and SSE stream
//! of this test comes from one address, which wrangler passes as
//! `CF-Connecting-IP`.

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

fn base_url() -> String {
    std::env::var("XWS_CF_CHAT_PER_IP_URL").expect(
        "XWS_CF_CHAT_PER_IP_URL must point at `wrangler dev`; run `cargo xtask test cloudflare`",
    )
}

fn ws_url(user: &str) -> String {
    format!(
        "{}/api/ws?user={user}",
        base_url().replacen("http", "ws", 1)
    )
}

/// Opens an SSE stream of a room: the response while its body streams, or
/// the refusal's status and `Retry-After`.
async fn open_stream() -> Result<Result<reqwest::Response, (u16, Option<String>)>> {
    let url = format!("{}/api/sse?topic=room:per-ip", base_url());
    let response = timeout(WAIT, reqwest::get(url))
        .await
        .context("the SSE request timed out")??;
    if response.status().is_success() {
        return Ok(Ok(response));
    }
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    Ok(Err((response.status().as_u16(), retry_after)))
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

/// Opens a stream once the address has a free place: earlier tests'
/// closes may not have reached the object yet.
async fn open_stream_when_free() -> Result<reqwest::Response> {
    let deadline = Instant::now() + WAIT;
    loop {
        match open_stream().await? {
            Ok(stream) => return Ok(stream),
            Err((429, _)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err((status, _)) => bail!("the stream was refused with {status}"),
        }
    }
}

/// [`open_stream_when_free`] for a socket.
async fn connect_when_free(user: &str) -> Result<Socket> {
    let deadline = Instant::now() + WAIT;
    loop {
        match connect(user).await? {
            Ok(socket) => return Ok(socket),
            Err(429) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => bail!("the socket was refused with {status}"),
        }
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

/// An SSE stream holds a place of its address as a WebSocket does: with a
/// socket and a stream open, a third of either kind gets 429 with
/// `Retry-After`. A silent stream gets keep-alives (every second in this
/// variant), and the first one written after its client left frees its
/// place: without them the place stays taken until the room's next
/// message.
#[tokio::test]
async fn sse_streams_count_against_the_per_ip_limit() -> Result<()> {
    let mut socket = connect_when_free("beside-a-stream").await?;
    let mut stream = open_stream_when_free().await?;
    let mut seen = String::new();
    while !seen.contains(": keep-alive\n\n") {
        let chunk = timeout(WAIT, stream.chunk())
            .await
            .context("no keep-alive on a silent stream")??
            .context("the stream ended")?;
        seen.push_str(std::str::from_utf8(&chunk)?);
    }
    match open_stream().await? {
        Err((status, retry_after)) => {
            ensure!(status == 429, "a stream over the per-IP limit: {status}");
            ensure!(retry_after.is_some(), "429 without Retry-After");
        }
        Ok(_) => bail!("a stream over the per-IP limit was served"),
    }
    match connect("after-the-stream").await? {
        Err(status) => ensure!(status == 429, "a socket over the limit: {status}"),
        Ok(_) => bail!("a socket over the per-IP limit was accepted"),
    }
    // The client leaves: the Worker's stream ends and closes its socket to
    // the object, which frees the place.
    drop(stream);
    drop(open_stream_when_free().await?);
    socket.close(None).await?;
    Ok(())
}
