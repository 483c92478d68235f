//! What the abuse, fault and security tests share: an in-process server on
//! a free port, WebSocket clients, and waits that always time out.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use std::{future::Future, io, net::SocketAddr, time::Duration};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    sync::oneshot,
    task::JoinHandle,
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{self, client::IntoClientRequest, protocol::frame::coding::CloseCode},
};
use xws::{Handler, Limits};
use xws_tokio::{Config, Xws};

/// The longest any single wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(30);

/// A WebSocket client.
pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An xws server running in this process on 127.0.0.1.
pub struct Server<H: Handler> {
    pub xws: Xws<H>,
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

/// Limits small enough for tests to reach quickly, with no heartbeat (the
/// tests that need one set it).
pub fn test_config(limits: Limits) -> Config {
    Config {
        limits,
        shutdown_timeout: Duration::from_secs(5),
        ..Config::default()
    }
}

/// Default limits without rate limit and heartbeat, to be adjusted.
pub fn quiet_limits() -> Limits {
    Limits {
        rate: None,
        heartbeat: None,
        ..Limits::default()
    }
}

/// Serves the axum `app` with `xws` through `serve_app` on a free port,
/// until the test ends.
pub fn serve_app_on_free_port<H: Handler>(xws: Xws<H>, app: axum::Router) -> SocketAddr {
    let listener = xws_tokio::listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(xws_tokio::serve_app(
        listener,
        xws,
        app,
        std::future::pending(),
    ));
    addr
}

/// Starts `handler` with `config` on a free port.
pub async fn start<H: Handler>(handler: H, config: Config) -> Server<H> {
    let listener = xws_tokio::listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let xws = Xws::with_config(handler, config);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(xws_tokio::serve(listener, xws.clone(), async {
        let _ = stopped.await;
    }));
    Server {
        xws,
        addr,
        stop: Some(stop),
        task: Some(task),
    }
}

impl<H: Handler> Server<H> {
    /// `ws://127.0.0.1:port{path_and_query}`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("ws://{}{path_and_query}", self.addr)
    }

    /// Connects a client; panics if the upgrade fails.
    pub async fn connect(&self, path_and_query: &str) -> Client {
        within(
            "connect",
            tokio_tungstenite::connect_async(self.url(path_and_query)),
        )
        .await
        .unwrap_or_else(|error| panic!("connecting to {path_and_query}: {error}"))
        .0
    }

    /// Tries an upgrade with extra headers; returns the HTTP status either way.
    pub async fn upgrade_status(&self, path_and_query: &str, headers: &[(&str, &str)]) -> u16 {
        let mut request = self.url(path_and_query).into_client_request().unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        match within("upgrade", tokio_tungstenite::connect_async(request)).await {
            Ok((_, response)) => response.status().as_u16(),
            Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
            Err(error) => panic!("upgrade of {path_and_query} failed below HTTP: {error}"),
        }
    }

    /// Stops the server gracefully (as `serve`'s shutdown future does) and
    /// waits for `serve` to return.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            within("serve to return", task).await.unwrap().unwrap();
        }
    }

    /// Waits until the server holds no connection, peer, topic or task.
    pub async fn wait_until_empty(&self) {
        eventually("every connection, peer, topic and task to be gone", || {
            self.xws.connections() == 0
                && self.xws.peer_count() == 0
                && self.xws.topic_count() == 0
                && self.xws.tasks() == 0
        })
        .await;
    }
}

/// Awaits `future`, panicking after [`WAIT`].
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {WAIT:?} waiting for {what}"))
}

/// Polls `condition` until it holds, panicking after [`WAIT`].
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    within(what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// The next text message; pings and pongs are skipped, anything else panics.
pub async fn next_text(client: &mut Client) -> String {
    loop {
        match within("a text message", client.next()).await {
            Some(Ok(tungstenite::Message::Text(text))) => return text.to_string(),
            Some(Ok(tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_))) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Reads until the server's close frame and returns its code; messages
/// before it are dropped. Reading goes on until the stream ends, so the
/// client's reply completes the close handshake.
pub async fn close_code(client: &mut Client) -> u16 {
    let code = loop {
        match within("a close frame", client.next()).await {
            Some(Ok(tungstenite::Message::Close(frame))) => {
                break frame.map_or(1005, |f| u16::from(f.code));
            }
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    within("the end of the stream", async {
        while let Some(Ok(_)) = client.next().await {}
    })
    .await;
    code
}

/// Sends a text message.
pub async fn send_text(client: &mut Client, text: &str) {
    within("a send", client.send(tungstenite::Message::text(text)))
        .await
        .unwrap();
}

/// The code a close frame carries, as tungstenite names it.
pub fn code(code: u16) -> CloseCode {
    CloseCode::from(code)
}

/// A raw TCP client that completes the WebSocket handshake and then does
/// whatever the test wants with the socket (typically: never read).
/// `receive_buffer` shrinks the kernel's receive buffer so the server's
/// writes back up quickly.
pub async fn raw_upgrade(addr: SocketAddr, path: &str, receive_buffer: Option<u32>) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    if let Some(size) = receive_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let mut stream = within("a TCP connection", socket.connect(addr))
        .await
        .unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // Read the response byte by byte so that no frame after it is consumed.
    let mut head = Vec::new();
    within("the 101 response", async {
        while !head.ends_with(b"\r\n\r\n") {
            head.push(stream.read_u8().await.unwrap());
        }
    })
    .await;
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "upgrade refused: {head}");
    stream
}

/// This process's resident memory in KiB (Linux).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}
