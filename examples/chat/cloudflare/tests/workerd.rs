//! The chat under real workerd (`wrangler dev --local`): hibernation, publish
//! from a Worker route and from the cron handler, SSE, the attachment limit.
//!
//! `cargo xtask test cloudflare` builds the Worker, starts `wrangler dev`
//! with a fresh persist directory, and runs these tests one at a time (they
//! share one Durable Object) with `XWS_CF_URL` set. Run by hand without it,
//! they fail: they never skip.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{net::TcpStream, time::timeout};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, protocol::frame::coding::CloseCode},
};

/// How long any single expected frame may take.
const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

fn base_url() -> String {
    std::env::var("XWS_CF_URL")
        .expect("XWS_CF_URL must point at `wrangler dev`; run `cargo xtask test cloudflare`")
}

/// The `CHAT_TOKEN` the xtask step gave the worker.
fn token() -> String {
    std::env::var("XWS_CF_TOKEN").expect("XWS_CF_TOKEN must hold the worker's CHAT_TOKEN")
}

fn ws_url(query: &str) -> String {
    let base = base_url().replacen("http", "ws", 1);
    format!("{base}/api/ws?{query}&token={}", token())
}

/// An HTTP URL with the token.
fn http_url(path: &str, query: &str) -> String {
    format!("{}{path}?{query}token={}", base_url(), token())
}

struct Client {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    id: String,
}

impl Client {
    /// Connects as `user` and reads the welcome.
    async fn connect(user: &str) -> Result<Self> {
        let (socket, _) = timeout(
            FRAME_TIMEOUT,
            connect_async(ws_url(&format!("user={user}"))),
        )
        .await
        .context("connect timed out")??;
        let mut client = Client {
            socket,
            id: String::new(),
        };
        let welcome = client.recv().await?;
        ensure!(
            welcome["type"] == "welcome",
            "expected welcome, got {welcome}"
        );
        client.id = welcome["id"]
            .as_str()
            .context("welcome without id")?
            .to_owned();
        Ok(client)
    }

    async fn send(&mut self, value: Value) -> Result<()> {
        self.socket.send(Message::text(value.to_string())).await?;
        Ok(())
    }

    /// The next JSON text frame.
    async fn recv(&mut self) -> Result<Value> {
        loop {
            let frame = timeout(FRAME_TIMEOUT, self.socket.next())
                .await
                .context("no frame in time")?
                .context("socket ended")??;
            match frame {
                Message::Text(text) => return Ok(serde_json::from_str(&text)?),
                Message::Ping(_) | Message::Pong(_) => {}
                other => bail!("expected a text frame, got {other:?}"),
            }
        }
    }

    async fn join(&mut self, room: &str) -> Result<()> {
        self.send(json!({"type": "join-room", "roomId": room}))
            .await?;
        let joined = self.recv().await?;
        ensure!(
            joined == json!({"type": "joined", "roomId": room}),
            "got {joined}"
        );
        Ok(())
    }

    /// Asserts nothing arrives for a while.
    async fn expect_silence(&mut self, wait: Duration) -> Result<()> {
        match timeout(wait, self.socket.next()).await {
            Err(_) => Ok(()),
            Ok(frame) => bail!("expected silence, got {frame:?}"),
        }
    }

    async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

async fn stats() -> Result<Value> {
    let url = http_url("/api/__stats", "");
    let response = reqwest::get(url).await?.error_for_status()?;
    Ok(response.json().await?)
}

async fn post_broadcast(event: &str, data: Value) -> Result<Value> {
    let response = reqwest::Client::new()
        .post(http_url("/api/broadcast", ""))
        .json(&json!({"event": event, "data": data}))
        .send()
        .await?
        .error_for_status()?;
    Ok(response.json().await?)
}

#[tokio::test]
async fn context_ids_and_topics_survive_hibernation() -> Result<()> {
    let mut ada = Client::connect("ada").await?;
    let mut bob = Client::connect("bob").await?;
    let mut cy = Client::connect("cy").await?;
    ada.join("hib-1").await?;
    bob.join("hib-1").await?;
    cy.join("hib-2").await?;
    let before = stats().await?;
    let first_instance = before["instance"].clone();

    // Idle periods grow until workerd has evicted the object; every probe
    // wakes it, so the wait restarts. Bounded: about 2.5 minutes in all.
    let mut evicted = false;
    for (round, idle) in [15u64, 30, 45, 60].into_iter().enumerate() {
        tokio::time::sleep(Duration::from_secs(idle)).await;
        let text = format!("after {idle} s idle");
        ada.send(json!({"type": "send-to-room", "roomId": "hib-1", "text": text}))
            .await?;
        let got = bob.recv().await?;
        ensure!(got["type"] == "message", "round {round}: got {got}");
        ensure!(got["from"] == ada.id.as_str(), "sender id lost: {got}");
        ensure!(got["user"] == "ada", "sender context lost: {got}");
        ensure!(got["text"] == text.as_str(), "got {got}");
        let now = stats().await?;
        if now["instance"] != first_instance {
            ensure!(
                now["restored"].as_u64() >= Some(3),
                "the new instance restored too few peers: {now}"
            );
            evicted = true;
            break;
        }
    }
    ensure!(evicted, "workerd never evicted the object (stats {before})");
    // The sender and the other room's member got nothing.
    ada.expect_silence(Duration::from_millis(500)).await?;
    cy.expect_silence(Duration::from_millis(100)).await?;

    // Topics survived too: bob publishes back, only ada hears it.
    bob.send(json!({"type": "send-to-room", "roomId": "hib-1", "text": "back"}))
        .await?;
    let got = ada.recv().await?;
    ensure!(
        got["from"] == bob.id.as_str() && got["user"] == "bob",
        "got {got}"
    );
    cy.expect_silence(Duration::from_millis(500)).await?;
    for client in [ada, bob, cy] {
        client.close().await;
    }
    Ok(())
}

#[tokio::test]
async fn a_worker_route_publishes_to_every_peer() -> Result<()> {
    let mut ada = Client::connect("ada").await?;
    let mut bob = Client::connect("bob").await?;
    let reply = post_broadcast("news", json!({"n": 1})).await?;
    ensure!(reply["success"] == true, "got {reply}");
    ensure!(reply["delivered"].as_u64() >= Some(2), "got {reply}");
    for client in [&mut ada, &mut bob] {
        let got = client.recv().await?;
        ensure!(
            got == json!({"type": "broadcast", "event": "news", "data": {"n": 1}}),
            "got {got}"
        );
    }
    let bad = reqwest::Client::new()
        .post(http_url("/api/broadcast", ""))
        .body("not json")
        .send()
        .await?;
    ensure!(
        bad.status() == 400,
        "malformed broadcast answered {}",
        bad.status()
    );
    ada.close().await;
    bob.close().await;
    Ok(())
}

#[tokio::test]
async fn the_scheduled_handler_publishes_to_every_peer() -> Result<()> {
    let mut ada = Client::connect("ada").await?;
    let mut bob = Client::connect("bob").await?;
    let url = format!("{}/__scheduled?cron=*/30+*+*+*+*", base_url());
    reqwest::get(url).await?.error_for_status()?;
    for client in [&mut ada, &mut bob] {
        let got = client.recv().await?;
        ensure!(
            got["type"] == "broadcast" && got["event"] == "cron",
            "got {got}"
        );
        ensure!(got["data"]["cron"] == "*/30 * * * *", "got {got}");
    }
    ada.close().await;
    bob.close().await;
    Ok(())
}

#[tokio::test]
async fn sse_streams_a_room_and_refuses_other_topics() -> Result<()> {
    let refused = reqwest::get(http_url("/api/sse", "topic=user:1&")).await?;
    ensure!(
        refused.status() == 403,
        "user topic answered {}",
        refused.status()
    );

    let response = reqwest::get(http_url("/api/sse", "topic=room:sse-1&"))
        .await?
        .error_for_status()?;
    ensure!(
        response.headers()["content-type"]
            .to_str()?
            .starts_with("text/event-stream")
    );
    let mut body = response.bytes_stream();
    let mut ada = Client::connect("ada").await?;
    ada.send(json!({"type": "send-to-room", "roomId": "sse-1", "text": "to sse"}))
        .await?;
    let mut seen = String::new();
    // The `: connected` comment, then one whole event.
    while seen.matches("\n\n").count() < 2 {
        let chunk = timeout(FRAME_TIMEOUT, body.next())
            .await
            .context("no SSE event in time")?
            .context("SSE stream ended")??;
        seen.push_str(std::str::from_utf8(&chunk)?);
    }
    let data = seen
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .context("no data line")?;
    ensure!(seen.contains("event: message\n"), "got {seen:?}");
    ensure!(seen.contains("id: 1\n"), "got {seen:?}");
    let event: Value = serde_json::from_str(data)?;
    ensure!(
        event["type"] == "message" && event["text"] == "to sse",
        "got {event}"
    );
    ensure!(event["from"] == ada.id.as_str(), "got {event}");
    ada.close().await;
    Ok(())
}

#[tokio::test]
async fn peer_state_over_16_kib_is_a_clear_error() -> Result<()> {
    let mut ada = Client::connect("ada").await?;
    let long = "r".repeat(200);
    for n in 0..100 {
        let room = format!("{long}-{n}");
        ada.send(json!({"type": "join-room", "roomId": room}))
            .await?;
        let frame = timeout(FRAME_TIMEOUT, ada.socket.next())
            .await
            .context("no answer in time")?
            .context("socket ended")??;
        match frame {
            Message::Text(_) => continue,
            Message::Close(Some(close)) => {
                ensure!(
                    close.code == CloseCode::Error,
                    "close code {:?}",
                    close.code
                );
                ensure!(
                    close.reason == "peer state too large",
                    "reason {}",
                    close.reason
                );
                ensure!(n > 50, "closed after only {n} rooms");
                return Ok(());
            }
            other => bail!("unexpected frame {other:?}"),
        }
    }
    bail!("100 rooms of 200 bytes never hit the 16 KiB limit")
}

#[tokio::test]
async fn oversize_messages_close_with_1009() -> Result<()> {
    let mut ada = Client::connect("ada").await?;
    ada.socket
        .send(Message::text("x".repeat(64 * 1024 + 1)))
        .await?;
    loop {
        let frame = timeout(FRAME_TIMEOUT, ada.socket.next())
            .await
            .context("no close in time")?
            .context("socket ended without close")??;
        if let Message::Close(close) = frame {
            let close = close.context("close without code")?;
            ensure!(close.code == CloseCode::Size, "close code {:?}", close.code);
            return Ok(());
        }
    }
}
