//! The chat under real workerd (`wrangler dev --local`): hibernation and the
//! auto-response heartbeat (with history, recovery and presence across an
//! eviction), publish from a Worker route and from the cron handler, SSE
//! (and a stream whose client stops reading), the attachment, message, rate and connection limits, what a panicking
//! hook does, the stream store contract on the object's storage and the
//! storage rows a room message writes.
//!
//! `cargo xtask test cloudflare` builds the Worker, starts `wrangler dev`
//! with a fresh persist directory, and runs these tests one at a time (they
//! share one Durable Object) with `XWS_CF_URL` set (and
//! `XWS_CF_DIRECT_URL`, the worker's own workerd behind wrangler's proxy).
//! Run by hand without them, they fail: they never skip.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{io::AsyncReadExt, net::TcpStream, time::timeout};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, protocol::frame::coding::CloseCode},
};

/// How long any single expected frame may take.
const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// The browser client's heartbeat, which the default `Config::auto_response`
/// has the runtime answer with [`PONG`]; the object's session would answer
/// it the same way, so only the object's statistics tell who answered.
const PING: &str = xws::client::APP_PING;
const PONG: &str = xws::client::APP_PONG;
/// The chat protocol's own ping, which its handler answers: it wakes the
/// object like any message.
const CHAT_PING: &str = r#"{"type":"ping"}"#;

/// The limits the xtask step sets through wrangler vars (`XWS_DEBUG=1`,
/// `XWS_MAX_CONNECTIONS`, `XWS_RATE_LIMIT` in `xtask/src/cloudflare/workers.rs`)
/// so these tests reach them quickly; a deployed chat keeps xws's defaults.
const MAX_CONNECTIONS: usize = 20;
/// The rate limit's burst (`10/200/5`: 10 messages/s, a burst of 200, 5
/// refusals tolerated).
const RATE_BURST: usize = 200;

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

    /// Sends the auto-response heartbeat and waits for its answer.
    async fn ping(&mut self) -> Result<()> {
        self.socket.send(Message::text(PING)).await?;
        let got = self.recv().await?;
        ensure!(
            got == serde_json::from_str::<Value>(PONG)?,
            "expected {PONG}, got {got}"
        );
        Ok(())
    }

    /// Sends the heartbeat every `every` for `idle` (then the connection
    /// would be idle but for heartbeats).
    async fn ping_for(&mut self, idle: Duration, every: Duration) -> Result<u32> {
        let mut pings = 0;
        let deadline = tokio::time::Instant::now() + idle;
        while tokio::time::Instant::now() + every <= deadline {
            tokio::time::sleep(every).await;
            self.ping().await?;
            pings += 1;
        }
        tokio::time::sleep_until(deadline).await;
        Ok(pings)
    }

    /// The next frame that is not a text frame (a close, or the end).
    async fn next_non_text(&mut self) -> Result<(Option<Message>, Vec<String>)> {
        let mut texts = Vec::new();
        loop {
            let frame = timeout(FRAME_TIMEOUT, self.socket.next())
                .await
                .context("no frame in time")?;
            match frame {
                Some(Ok(Message::Text(text))) => texts.push(text.to_string()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(other)) => return Ok((Some(other), texts)),
                Some(Err(_)) | None => return Ok((None, texts)),
            }
        }
    }

    /// Joins `room`; returns the `joined` answer (with the room's position).
    async fn join(&mut self, room: &str) -> Result<Value> {
        self.join_with(json!({"type": "join-room", "roomId": room}))
            .await
    }

    async fn join_with(&mut self, request: Value) -> Result<Value> {
        let room = request["roomId"].clone();
        self.send(request).await?;
        let joined = self.recv().await?;
        ensure!(
            joined["type"] == "joined" && joined["roomId"] == room,
            "got {joined}"
        );
        ensure!(
            joined["offset"].is_u64() && joined["epoch"].is_string(),
            "rooms keep history, so `joined` has the room's position: {joined}"
        );
        Ok(joined)
    }

    /// Sends `request` and returns the answer of type `kind`.
    async fn ask(&mut self, request: Value, kind: &str) -> Result<Value> {
        self.send(request).await?;
        loop {
            let got = self.recv().await?;
            if got["type"] == kind {
                return Ok(got);
            }
        }
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

/// Waits until the object's socket count is at most `sockets` (the close
/// of an earlier test's socket reaches the object asynchronously).
async fn wait_for_sockets_at_most(sockets: u64) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + FRAME_TIMEOUT;
    loop {
        let now = stats().await?;
        if now["sockets"].as_u64() <= Some(sockets) {
            return Ok(now);
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("the object still holds more than {sockets} sockets: {now}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One more upgrade, which must be refused with 503: the object is full.
async fn expect_server_full() -> Result<()> {
    let refused = timeout(FRAME_TIMEOUT, connect_async(ws_url("user=one-too-many")))
        .await
        .context("connect timed out")?;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => ensure!(
            response.status() == 503,
            "upgrade over the limit answered {}",
            response.status()
        ),
        Err(other) => bail!("upgrade over the limit failed with {other}"),
        Ok(_) => bail!("a socket past {MAX_CONNECTIONS} places taken was accepted"),
    }
    Ok(())
}

/// Hibernation keeps every peer's id, context and topics, and the
/// auto-response heartbeat never wakes the object: ada pings all through
/// the idle periods, every ping gets its pong, and workerd evicts the
/// object anyway (a ping that woke it would restart its idle time, and
/// workerd evicts only after idle seconds). Then the instance that the
/// next message built answers pings without running the handler: its
/// message count stays where it was.
#[tokio::test]
async fn hibernation_keeps_peers_and_pings_never_wake_the_object() -> Result<()> {
    let mut ada = Client::connect("ada").await?;
    let mut bob = Client::connect("bob").await?;
    let mut cy = Client::connect("cy").await?;
    ada.join("hib-1").await?;
    bob.join("hib-1").await?;
    cy.join("hib-2").await?;
    // A first message, whose position the history must still hold after
    // the object was evicted.
    ada.send(json!({"type": "send-to-room", "roomId": "hib-1", "text": "before"}))
        .await?;
    let first = bob.recv().await?;
    ensure!(first["text"] == "before", "got {first}");
    let before = stats().await?;
    let first_instance = before["instance"].clone();

    // Idle periods grow until workerd has evicted the object; every probe
    // wakes it, so the wait restarts. Bounded: about 2.5 minutes in all.
    let mut evicted = false;
    let mut pings = 0;
    for (round, idle) in [15u64, 30, 45, 60].into_iter().enumerate() {
        pings += ada
            .ping_for(Duration::from_secs(idle), Duration::from_secs(2))
            .await?;
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
    ensure!(
        evicted,
        "workerd never evicted the object while {pings} pings were answered (stats {before})"
    );
    ensure!(pings > 0, "no ping was sent while idle");
    // The new instance was built by ada's message and the stats request.
    let woken = stats().await?;
    for _ in 0..5 {
        ada.ping().await?;
    }
    let after_pings = stats().await?;
    ensure!(
        after_pings["instance"] == woken["instance"],
        "pings replaced the instance: {woken} then {after_pings}"
    );
    ensure!(
        after_pings["messages"] == woken["messages"],
        "pings reached the handler: {woken} then {after_pings}"
    );
    // The sender and the other room's member got nothing.
    ada.expect_silence(Duration::from_millis(500)).await?;
    cy.expect_silence(Duration::from_millis(100)).await?;

    // History lives in the object's storage: still there, in the same
    // epoch, and a client that had only the first message recovers the rest.
    let history = ada
        .ask(
            json!({"type": "history", "roomId": "hib-1", "limit": 100}),
            "history",
        )
        .await?;
    let kept: Vec<&Value> = history["messages"]
        .as_array()
        .context("history without messages")?
        .iter()
        .map(|message| &message["text"])
        .collect();
    ensure!(
        kept.first() == Some(&&first["text"]) && history["epoch"] == first["epoch"],
        "history after eviction lost the first message or its epoch: {history} (first {first})"
    );
    let mut late = Client::connect("late").await?;
    let since = json!({"offset": first["offset"], "epoch": first["epoch"]});
    let joined = late
        .join_with(json!({"type": "join-room", "roomId": "hib-1", "since": since}))
        .await?;
    ensure!(joined["recovered"] == true, "got {joined}");
    for text in &kept[1..] {
        let got = late.recv().await?;
        ensure!(got["text"] == **text, "replayed {got}, expected {text}");
    }
    // Presence is the sockets the object holds, rebuilt from their
    // attachments: ada and bob (and late) are still in the room.
    let presence = ada
        .ask(json!({"type": "presence", "roomId": "hib-1"}), "presence")
        .await?;
    let mut members: Vec<&str> = presence["members"]
        .as_array()
        .context("presence without members")?
        .iter()
        .filter_map(|member| member["user"].as_str())
        .collect();
    members.sort_unstable();
    ensure!(
        members == ["ada", "bob", "late"],
        "presence after eviction: {presence}"
    );
    late.close().await;

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

/// `xws.js`'s heartbeat is answered while the object's message count stays
/// put, and the chat's own ping, answered by the handler, moves it: the
/// count does see every message that wakes the object.
#[tokio::test]
async fn the_app_ping_is_answered_without_waking_the_object() -> Result<()> {
    let mut ada = Client::connect("ada").await?;
    let before = stats().await?;
    for _ in 0..5 {
        ada.ping().await?;
    }
    let after_pings = stats().await?;
    ensure!(
        after_pings["instance"] == before["instance"],
        "the object was replaced while pinging: {before} then {after_pings}"
    );
    ensure!(
        after_pings["messages"] == before["messages"],
        "app pings woke the object: {before} then {after_pings}"
    );
    ada.socket.send(Message::text(CHAT_PING)).await?;
    let got = ada.recv().await?;
    ensure!(got["type"] == "pong", "expected the chat's pong, got {got}");
    let after_chat_ping = stats().await?;
    ensure!(
        after_chat_ping["messages"].as_u64() > after_pings["messages"].as_u64(),
        "the chat's ping did not reach the object: {after_pings} then {after_chat_ping}"
    );
    ada.close().await;
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
    // A WebSocket member too: one fan-out sends the message to it and the
    // event to the stream.
    let mut bob = Client::connect("bob").await?;
    bob.join("sse-1").await?;
    let mut ada = Client::connect("ada").await?;
    ada.send(json!({"type": "send-to-room", "roomId": "sse-1", "text": "to sse"}))
        .await?;
    let mut seen = String::new();
    // Comments (`: connected`, keep-alives), then one whole event.
    while !(seen.contains("data: ") && seen.ends_with("\n\n")) {
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
    // Rooms keep history: the event id is the message's stream position.
    let id = seen
        .lines()
        .find_map(|line| line.strip_prefix("id: "))
        .context("no id line")?;
    let event: Value = serde_json::from_str(data)?;
    ensure!(
        event["type"] == "message" && event["text"] == "to sse",
        "got {event}"
    );
    ensure!(event["from"] == ada.id.as_str(), "got {event}");
    ensure!(
        id == format!(
            "{}:{}",
            event["offset"],
            event["epoch"].as_str().unwrap_or_default()
        ),
        "SSE id {id} is not the position of {event}"
    );
    let message = bob.recv().await?;
    ensure!(
        message == event,
        "the member got {message}, the stream {event}"
    );
    bob.close().await;
    ada.close().await;
    Ok(())
}

/// Publications the slow-reader test sends: 120 of 48 KiB, 5.6 MiB in
/// all, past the Worker's 1 MiB send queue of a stream and what the
/// sockets between it and the test hold.
const SLOW_READER_PUBLICATIONS: usize = 120;
const SLOW_READER_TEXT_BYTES: usize = 48 * 1024;

/// A stream whose client stops reading is ended by the Worker once its
/// queue holds `Limits::send_queue_bytes` (1 MiB): the Worker drops what
/// waited, closes the stream's socket to the object with 1013 (freeing its
/// place) and, when the client reads again, writes what the sockets held
/// and a last comment, then ends the body. A reader of the same room
/// receives every publication meanwhile. (With an unbounded relay the
/// stalled stream keeps its socket and the Worker everything sent to it.)
#[tokio::test]
async fn a_stream_that_is_not_read_is_ended_and_frees_its_place() -> Result<()> {
    let room = "slow-sse";
    let before = stats().await?["sockets"]
        .as_u64()
        .context("stats without sockets")?;
    let (mut stalled, head) = open_raw_sse(&format!("room:{room}")).await?;
    ensure!(head.starts_with("HTTP/1.1 200"), "stream answered {head:?}");
    let reader = reqwest::get(http_url("/api/sse", &format!("topic=room:{room}&")))
        .await?
        .error_for_status()?;
    let reading = tokio::spawn(count_events(reader, SLOW_READER_PUBLICATIONS));
    wait_for_sockets_at_least(before + 2).await?;

    // Several publishers, so no one of them reaches the rate limit.
    let text = "x".repeat(SLOW_READER_TEXT_BYTES);
    let mut publishers = Vec::new();
    for n in 0..4 {
        publishers.push(Client::connect(&format!("slow-sse-publisher-{n}")).await?);
    }
    for sent in 0..SLOW_READER_PUBLICATIONS {
        let publisher = &mut publishers[sent % 4];
        publisher
            .send(json!({"type": "send-to-room", "roomId": room, "text": text}))
            .await?;
        // At a pace a reading client follows through wrangler's proxy
        // (~0.5 MB/s; at 1.6 MB/s the reader fell 1 MiB behind and was
        // ended too).
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Held open, so the socket count below falls by the stalled stream.
    let _reader = timeout(Duration::from_secs(60), reading)
        .await
        .context("the reading stream did not receive every publication in time")???;

    // The stalled stream's socket is closed: only the publishers and the
    // reader remain beside what was there before.
    wait_for_sockets_at_most(before + 1 + 4).await?;
    // It ends by itself once read: what the sockets held, the last comment,
    // the end of the body; a fraction of what was published.
    // (wrangler's proxy keeps the connection open after the body ends:
    // read up to the last chunk of the body.)
    let mut rest = Vec::new();
    let deadline = tokio::time::Instant::now() + FRAME_TIMEOUT;
    while !rest.ends_with(b"\r\n0\r\n\r\n") {
        let mut buffer = [0u8; 64 * 1024];
        let read = tokio::time::timeout_at(deadline, stalled.read(&mut buffer)).await;
        match read {
            Ok(Ok(0)) => break,
            Ok(Ok(read)) => rest.extend_from_slice(&buffer[..read]),
            Ok(Err(error)) => return Err(error.into()),
            Err(_) => bail!(
                "the stalled stream did not end; {} bytes read, ending {:?}",
                rest.len(),
                String::from_utf8_lossy(&rest[rest.len().saturating_sub(120)..])
            ),
        }
    }
    let rest = String::from_utf8_lossy(&rest);
    ensure!(
        rest.contains(": the client reads too slowly; reconnect\n"),
        "the stream ended without saying why: {:?}",
        &rest[rest.len().saturating_sub(200)..]
    );
    let delivered = rest.matches("event: message\n").count();
    ensure!(
        delivered < SLOW_READER_PUBLICATIONS / 2,
        "the stalled stream still got {delivered} of {SLOW_READER_PUBLICATIONS} publications"
    );
    for publisher in publishers {
        publisher.close().await;
    }
    Ok(())
}

/// An SSE request for `topic` on a socket with a small receive buffer,
/// read up to the end of the response head and then left unread; returns
/// the socket and the head. It goes to the worker's own workerd
/// (`XWS_CF_DIRECT_URL`, which the xtask step finds), not through
/// wrangler's proxy worker: the socket between the two buffers up to
/// Linux's `tcp_rmem` maximum (32 MiB here), so through the proxy the
/// worker sees a client that never reads as one that reads everything.
async fn open_raw_sse(topic: &str) -> Result<(TcpStream, String)> {
    use tokio::io::AsyncWriteExt;
    let direct = std::env::var("XWS_CF_DIRECT_URL")
        .context("XWS_CF_DIRECT_URL must point at the worker's own workerd")?;
    let url = reqwest::Url::parse(&format!("{direct}/api/sse?topic={topic}&token={}", token()))?;
    let addr = url
        .socket_addrs(|| None)?
        .into_iter()
        .next()
        .context("no address")?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_recv_buffer_size(4096)?;
    let mut stream = socket.connect(addr).await?;
    let request = format!(
        "GET {}?{} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n",
        url.path(),
        url.query().unwrap_or_default()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let read = timeout(FRAME_TIMEOUT, stream.read(&mut byte))
            .await
            .context("no response head in time")??;
        ensure!(read == 1, "the stream closed before its head");
        head.push(byte[0]);
    }
    Ok((stream, String::from_utf8(head)?))
}

/// The body of an SSE response, kept open by whoever holds it.
type EventBody =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<Vec<u8>>> + Send>>;

/// Reads `response`'s events until `expected` room messages arrived;
/// returns the body, still open.
async fn count_events(response: reqwest::Response, expected: usize) -> Result<EventBody> {
    let mut body: EventBody = Box::pin(
        response
            .bytes_stream()
            .map(|chunk| chunk.map(|bytes| bytes.to_vec())),
    );
    let mut pending = String::new();
    let mut received = 0;
    let mut last_other_block = String::new();
    while received < expected {
        let Some(chunk) = body.next().await else {
            bail!(
                "the reading stream ended after {received} events: {pending:?} {last_other_block:?}"
            );
        };
        let chunk = chunk?;
        pending.push_str(std::str::from_utf8(&chunk)?);
        while let Some(end) = pending.find("\n\n") {
            if pending[..end].contains("event: message") {
                received += 1;
            } else {
                last_other_block = pending[..end].to_string();
            }
            pending.drain(..end + 2);
        }
    }
    Ok(body)
}

/// Waits until the object holds at least `sockets` sockets.
async fn wait_for_sockets_at_least(sockets: u64) -> Result<()> {
    let deadline = tokio::time::Instant::now() + FRAME_TIMEOUT;
    loop {
        let now = stats().await?;
        if now["sockets"].as_u64() >= Some(sockets) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("the object holds fewer than {sockets} sockets: {now}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The stream store contract (`xws::stream::contract::check`: offsets one
/// by one, racing appends, trimming by size and age, reads, presence) on
/// the object's SQLite storage, under workerd.
#[tokio::test]
async fn the_stream_store_contract_holds_in_durable_object_storage() -> Result<()> {
    let response = reqwest::get(http_url("/api/__contract", "")).await?;
    let status = response.status();
    let body = response.text().await?;
    ensure!(status == 200, "{status}: {body}");
    Ok(())
}

/// What a publication to a room costs in Durable Object storage, in rows
/// written (what it bills): the offset row and the publication's row,
/// plus, once the room holds its retention, the oldest row's delete.
#[tokio::test]
async fn a_room_message_costs_two_rows_written_until_the_history_is_full() -> Result<()> {
    const MESSAGES: u64 = 10;
    let mut ada = Client::connect("ada").await?;
    let mut bob = Client::connect("bob").await?;
    ada.join("cost-1").await?;
    bob.join("cost-1").await?;
    let before = stats().await?;
    for n in 0..MESSAGES {
        ada.send(json!({"type": "send-to-room", "roomId": "cost-1", "text": format!("m{n}")}))
            .await?;
        bob.recv().await?;
    }
    let after = stats().await?;
    ensure!(
        after["instance"] == before["instance"],
        "the object was replaced meanwhile: {before} then {after}"
    );
    let written = after["storage_rows_written"].as_u64().unwrap_or_default()
        - before["storage_rows_written"].as_u64().unwrap_or_default();
    ensure!(
        written == 2 * MESSAGES,
        "{MESSAGES} messages wrote {written} rows ({before} then {after})"
    );
    for client in [ada, bob] {
        client.close().await;
    }
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
                // Each room is kept about three times: the topic, its
                // presence membership, and the room id in the member's info.
                ensure!(n > 20, "closed after only {n} rooms");
                return Ok(());
            }
            other => bail!("unexpected frame {other:?}"),
        }
    }
    bail!("100 rooms of 200 bytes never hit the 16 KiB limit")
}

/// The socket's attachment keeps only what the handler keeps of the
/// request (`Handler::kept_request`): 20 KiB of cookies and an
/// `Authorization` header, which used to make the attachment too large
/// (500 at the upgrade), are not stored, and the peer works.
#[tokio::test]
async fn credentials_in_the_upgrade_request_are_not_stored() -> Result<()> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = ws_url("user=ada").into_client_request()?;
    let cookie = format!("session=s3cret; big={}", "c".repeat(20 * 1024));
    request.headers_mut().insert("cookie", cookie.parse()?);
    request
        .headers_mut()
        .insert("authorization", "Bearer s3cret".parse()?);
    let (socket, _) = timeout(FRAME_TIMEOUT, connect_async(request))
        .await
        .context("connect timed out")?
        .context("the upgrade with 20 KiB of cookies failed")?;
    let mut ada = Client {
        socket,
        id: String::new(),
    };
    let welcome = ada.recv().await?;
    ensure!(
        welcome["type"] == "welcome",
        "expected welcome, got {welcome}"
    );
    ada.join("lobby").await?;
    ada.close().await;
    Ok(())
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

/// xws's rate limit (`Limits::rate`), enforced by the object: a peer that
/// floods past the burst gets the handler's error message for each refused
/// message, then a 1008 close once the refusals pass the tolerance. Other
/// peers keep their connection. The step lowers the limit to
/// `10/200/5` ([`RATE_BURST`]) through the `XWS_RATE_LIMIT` var so a test
/// reaches it; the default is 1,000 messages/s.
#[tokio::test]
async fn rate_limit_closes_a_flooding_peer_with_1008() -> Result<()> {
    let mut ada = Client::connect("ada").await?;
    let mut bob = Client::connect("bob").await?;
    // Typing in a room nobody joined: the handler answers nothing.
    let typing = json!({"type": "typing", "roomId": "flood"}).to_string();
    for _ in 0..2 * RATE_BURST {
        if ada
            .socket
            .send(Message::text(typing.clone()))
            .await
            .is_err()
        {
            break;
        }
    }
    let (end, texts) = ada.next_non_text().await?;
    let Some(Message::Close(Some(close))) = end else {
        bail!("expected a close frame, got {end:?} after {texts:?}");
    };
    ensure!(
        close.code == CloseCode::Policy,
        "close code {:?}",
        close.code
    );
    ensure!(
        close.reason == "rate limit exceeded",
        "reason {}",
        close.reason
    );
    ensure!(
        !texts.is_empty()
            && texts
                .iter()
                .all(|text| text.contains("error") && text.contains("rate limit")),
        "expected only rate limit errors before the close, got {texts:?}"
    );
    // Only the flooding peer was closed.
    bob.join("after-flood").await?;
    bob.close().await;
    Ok(())
}

/// `Limits::max_connections`, enforced by the object on upgrade: the
/// socket over the limit gets a 503 instead of a 101, and a closed socket
/// frees its place. The step lowers the limit to [`MAX_CONNECTIONS`]
/// through the `XWS_MAX_CONNECTIONS` var; the default is 25,000.
///
/// The limit counts every socket the object holds: sockets of earlier
/// tests whose close has not reached the object count too, so the test
/// fills only the places left.
#[tokio::test]
async fn connection_limit_answers_503_on_upgrade() -> Result<()> {
    let held = stats().await?["sockets"]
        .as_u64()
        .context("stats without sockets")?;
    let held = usize::try_from(held)?;
    ensure!(
        held < MAX_CONNECTIONS / 2,
        "earlier tests left {held} sockets open"
    );
    let mut clients = Vec::new();
    for n in held..MAX_CONNECTIONS {
        clients.push(Client::connect(&format!("peer-{n}")).await?);
    }
    expect_server_full().await?;
    let stats = stats().await?;
    ensure!(
        stats["sockets"].as_u64() == Some(MAX_CONNECTIONS as u64),
        "got {stats}"
    );
    clients.pop().context("no client")?.close().await;
    wait_for_sockets_at_most(MAX_CONNECTIONS as u64 - 1).await?;
    clients.push(Client::connect("in-the-freed-place").await?);
    for client in clients {
        client.close().await;
    }
    Ok(())
}

/// An SSE stream takes a place like a WebSocket: with the places left
/// taken by sockets and one stream, another stream or socket gets 503 with
/// `Retry-After`; the stream's place is free again once its client leaves.
#[tokio::test]
async fn connection_limit_counts_sse_streams_too() -> Result<()> {
    let held = wait_for_sockets_at_most(MAX_CONNECTIONS as u64 / 2).await?["sockets"]
        .as_u64()
        .context("stats without sockets")?;
    let stream = reqwest::get(http_url("/api/sse", "topic=room:limit&"))
        .await?
        .error_for_status()?;
    let mut clients = Vec::new();
    for n in usize::try_from(held)? + 1..MAX_CONNECTIONS {
        clients.push(Client::connect(&format!("beside-the-stream-{n}")).await?);
    }
    let refused = reqwest::get(http_url("/api/sse", "topic=room:limit&")).await?;
    ensure!(
        refused.status() == 503,
        "a stream over the limit answered {}",
        refused.status()
    );
    ensure!(
        refused.headers().contains_key("retry-after"),
        "503 without Retry-After"
    );
    expect_server_full().await?;
    // The client leaves: the Worker closes the stream's socket to the object.
    drop(stream);
    wait_for_sockets_at_most(MAX_CONNECTIONS as u64 - 1).await?;
    clients.push(Client::connect("in-the-stream-s-place").await?);
    for client in clients {
        client.close().await;
    }
    Ok(())
}

/// What a panicking hook does under workerd. Rust on `wasm32` aborts on a
/// panic (there is no unwinding to catch, unlike xws-tokio, which closes
/// the peer with 1011): the Wasm instance traps, the message being handled
/// is lost, no close frame is sent to anyone, and worker's shim builds a
/// new Wasm instance for the next event. The runtime still holds every
/// hibernatable socket, so the new object restores the peers from their
/// attachments, as after hibernation: the panicking peer and the others
/// stay connected with their ids, contexts and topics.
///
/// It must run last (libtest runs a binary's tests in name order, here one
/// at a time): the trap happens in a task of the hook's future, so the
/// event's promise never settles, and in our runs workerd then did not
/// evict the object for minutes, which the hibernation test needs.
#[tokio::test]
async fn when_a_hook_panics_the_object_is_rebuilt_and_keeps_every_socket() -> Result<()> {
    let mut ada = Client::connect("ada").await?;
    let mut bob = Client::connect("bob").await?;
    bob.join("panic-1").await?;
    let before = stats().await?;
    // The chat worker panics on this frame when `XWS_DEBUG` is 1.
    ada.socket
        .send(Message::text(r#"{"type":"__panic"}"#))
        .await?;
    // No 1011 close, no answer: the instance died in the hook.
    ada.expect_silence(Duration::from_secs(2)).await?;
    bob.expect_silence(Duration::from_millis(100)).await?;
    let after = stats().await?;
    ensure!(
        after["instance"] != before["instance"],
        "the panic left the instance in place: {before} then {after}"
    );
    ensure!(
        after["restored"].as_u64() >= Some(2) && after["sockets"] == before["sockets"],
        "the new instance lost sockets: {before} then {after}"
    );
    // Both sockets still work, with the same ids and contexts.
    ada.send(json!({"type": "send-to-room", "roomId": "panic-1", "text": "still here"}))
        .await?;
    let got = bob.recv().await?;
    ensure!(
        got["from"] == ada.id.as_str() && got["user"] == "ada" && got["text"] == "still here",
        "got {got}"
    );
    ada.close().await;
    bob.close().await;
    Ok(())
}

/// This worker runs without `CHAT_API_KEY`: the server API answers 404
/// (the variant served with a key runs `tests/jwt.rs`).
#[tokio::test]
async fn the_server_api_is_off_without_chat_api_key() -> Result<()> {
    chat::scenarios::server_api_is_off_without_a_key(&base_url()).await?;
    Ok(())
}
