//! `serve` reads the first request head itself and answers a WebSocket
//! upgrade without hyper (`src/head.rs`): its answers are those of the
//! hyper path (`serve_app` with `xws.ws()`) byte for byte but the date,
//! the handler's `upgrade` hook runs once per request, other requests are
//! still hyper's on the same connection, and a slow head is cut off.

mod common;

use common::{quiet_limits, start, test_config, within};
use futures_util::{SinkExt, StreamExt};
use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
use xws::{Accept, Handler, HookResult, Message, OriginPolicy, Peer, Reject, RequestInfo, Upgrade};
use xws_tokio::{Config, Xws};

/// Accepts with a header of its own (and `chat` when offered), refuses `?refuse`
/// with 401, and echoes messages.
#[derive(Clone, Default)]
struct Gate {
    upgrade_hooks: Arc<AtomicUsize>,
    cookie_length: Arc<AtomicUsize>,
}

impl Handler for Gate {
    type Context = ();

    async fn upgrade(&self, request: &RequestInfo) -> Upgrade<()> {
        self.upgrade_hooks.fetch_add(1, Ordering::SeqCst);
        if let Some(cookie) = request.headers.get("cookie") {
            self.cookie_length.store(cookie.len(), Ordering::SeqCst);
        }
        if request.query_param("refuse").is_some() {
            return Reject::unauthorized("who are you?")
                .header("www-authenticate", "Bearer realm=\"xws\"")
                .into();
        }
        let accept = Accept::new(()).header("x-upgraded-by", "gate");
        let offers_chat = request
            .headers
            .get("sec-websocket-protocol")
            .is_some_and(|offered| offered == "chat");
        if offers_chat {
            accept.protocol("chat").into()
        } else {
            accept.into()
        }
    }

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        peer.send(message)?;
        Ok(())
    }
}

const HEADER_TIMEOUT: Duration = Duration::from_millis(500);

fn config() -> Config {
    Config {
        header_read_timeout: HEADER_TIMEOUT,
        permessage_deflate: true,
        origins: OriginPolicy::parse("https://good.example"),
        ..test_config(quiet_limits())
    }
}

/// `handler` behind `serve_app` with `xws.ws()` at `/ws`: the hyper path.
async fn start_through_hyper(handler: Gate) -> SocketAddr {
    let xws = Xws::with_config(handler, config());
    let app = axum::Router::new().route_service("/ws", xws.ws());
    common::serve_app_on_free_port(xws, app)
}

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn upgrade_request(first_line: &str, extra: &str) -> String {
    format!(
        "{first_line}\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n{extra}\r\n"
    )
}

/// Reads one response: its head, then as many body bytes as
/// `content-length` says. The `date` line, which must be there, is left
/// out: it is the only line allowed to differ.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let head_end = loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let mut byte = [0u8; 1];
        let n = within("a response", stream.read(&mut byte)).await.unwrap();
        assert_ne!(n, 0, "closed mid-response: {received:?}");
        received.push(byte[0]);
    };
    let head = String::from_utf8(received[..head_end].to_vec()).unwrap();
    assert!(head.contains("\r\ndate: "), "no date: {head}");
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .map_or(0, |length| length.parse().unwrap());
    let mut body = vec![0u8; length];
    within("a response body", stream.read_exact(&mut body))
        .await
        .unwrap();
    let head: Vec<&str> = head
        .lines()
        .filter(|line| !line.starts_with("date: "))
        .collect();
    format!("{}{}", head.join("\n"), String::from_utf8(body).unwrap())
}

/// Sends `request` on a new connection and reads the answer; the
/// connection stays open for more.
async fn exchange(addr: SocketAddr, request: &str) -> (String, TcpStream) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    (read_response(&mut stream).await, stream)
}

#[tokio::test]
async fn every_upgrade_is_answered_as_the_hyper_path_answers_it() {
    let direct_gate = Gate::default();
    let direct = start(direct_gate.clone(), config()).await;
    let hyper_gate = Gate::default();
    let through_hyper = start_through_hyper(hyper_gate.clone()).await;
    let requests = [
        // Accepted: subprotocol, the hook's header, permessage-deflate.
        upgrade_request(
            "GET /ws HTTP/1.1",
            "Sec-WebSocket-Protocol: chat\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
        ),
        // The hook's 401 with its header.
        upgrade_request("GET /ws?refuse=1 HTTP/1.1", ""),
        upgrade_request("POST /ws HTTP/1.1", ""),
        upgrade_request("GET /ws HTTP/1.1", "Origin: https://evil.example\r\n"),
        upgrade_request("GET /ws HTTP/1.1", "").replace("Version: 13", "Version: 8"),
        upgrade_request("GET /ws HTTP/1.1", "").replace(&format!("Key: {KEY}"), "Key: "),
        upgrade_request("GET /ws HTTP/1.1", "").replace("Connection: Upgrade", "Connection: close"),
    ];
    let statuses = ["101", "401", "405", "403", "426", "400", "426"];
    for (request, status) in requests.iter().zip(statuses) {
        let (direct_answer, _) = exchange(direct.addr, request).await;
        let (hyper_answer, _) = exchange(through_hyper, request).await;
        assert!(
            direct_answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{direct_answer}"
        );
        assert_eq!(direct_answer, hyper_answer, "for {request}");
    }
    // Each request ran the hook once (origin and validation refusals
    // never reach it).
    assert_eq!(direct_gate.upgrade_hooks.load(Ordering::SeqCst), 2);
    assert_eq!(hyper_gate.upgrade_hooks.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn after_a_refused_upgrade_hyper_serves_the_same_connection() {
    let gate = Gate::default();
    let server = start(gate.clone(), config()).await;
    let refused = upgrade_request("GET /ws?refuse=1 HTTP/1.1", "");
    let (answer, mut stream) = exchange(server.addr, &refused).await;
    assert!(answer.starts_with("HTTP/1.1 401 "), "{answer}");
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_response(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 426 "), "{answer}");
    assert_eq!(gate.upgrade_hooks.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_upgrade_and_other_requests_share_one_listener() {
    let server = start(Gate::default(), config()).await;
    let mut client = server.connect("/ws").await;
    client.send("hello".into()).await.unwrap();
    let echoed = within("the echo", client.next()).await.unwrap().unwrap();
    assert_eq!(echoed.into_text().unwrap(), "hello");

    // Two requests on one keep-alive connection: hyper reads the first
    // from what `serve` had read already, then the second from the socket.
    let (answer, mut stream) = exchange(server.addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 426 "), "{answer}");
    stream
        .write_all(
            b"GET /events?topic=news HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
        )
        .await
        .unwrap();
    let mut sse = [0u8; 12];
    within("the SSE answer", stream.read_exact(&mut sse))
        .await
        .unwrap();
    assert_eq!(&sse, b"HTTP/1.1 200");
}

#[tokio::test]
async fn a_head_larger_than_the_first_read_is_read_whole() {
    let gate = Gate::default();
    let server = start(gate.clone(), config()).await;
    let cookie = "c".repeat(5000);
    let mut request = server.url("/ws").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    let (mut client, response) = within("connect", tokio_tungstenite::connect_async(request))
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(gate.cookie_length.load(Ordering::SeqCst), 5000);
    client
        .send(tungstenite::Message::text("big"))
        .await
        .unwrap();
    let echoed = within("the echo", client.next()).await.unwrap().unwrap();
    assert_eq!(echoed.into_text().unwrap(), "big");
}

#[tokio::test]
async fn an_upgrade_head_not_finished_in_time_is_closed_without_an_answer() {
    let gate = Gate::default();
    let server = start(gate.clone(), config()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    let unfinished = upgrade_request("GET /ws HTTP/1.1", "");
    stream
        .write_all(unfinished.trim_end().as_bytes())
        .await
        .unwrap();
    let mut received = Vec::new();
    within("the server to close", stream.read_to_end(&mut received))
        .await
        .unwrap();
    assert!(received.is_empty(), "{received:?}");
    assert!(started.elapsed() >= HEADER_TIMEOUT);
    assert_eq!(gate.upgrade_hooks.load(Ordering::SeqCst), 0);
}
