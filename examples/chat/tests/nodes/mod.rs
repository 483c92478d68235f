//! Chat servers sharing one real Redis, and the clients that talk to them.
#![allow(dead_code, unused_imports)] // each test file uses a different subset

use chat::ChatHandler;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::oneshot,
};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message as Frame};
use xws_redis::{RedisBroker, RedisBrokerConfig};
use xws_tokio::Xws;

pub use xws_redis::testing::{kill_connection, require_redis, unique_channel};

/// Every wait in these tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(10);

/// One chat server on 127.0.0.1, joined to the others through its broker.
pub struct ChatNode {
    pub addr: SocketAddr,
    pub xws: Xws<ChatHandler>,
    pub broker: Arc<RedisBroker>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for ChatNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a chat node whose broker uses `url` and `channel`; waits until the
/// broker is connected unless `url` is meant to be dead.
pub async fn start_chat_node(url: &str, channel: &str, wait_for_redis: bool) -> ChatNode {
    let config = RedisBrokerConfig::new(url)
        .with_channel(channel)
        .with_backoff(Duration::from_millis(20), Duration::from_millis(500));
    let broker = Arc::new(RedisBroker::new(config).unwrap());
    let xws = Xws::new(ChatHandler::new(None)).with_broker(broker.clone());
    if wait_for_redis {
        tokio::time::timeout(WAIT, broker.ready())
            .await
            .expect("the chat node's broker did not connect to Redis");
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    tokio::spawn(chat::server::serve(listener, xws.clone(), async {
        let _ = stopped.await;
    }));
    ChatNode {
        addr,
        xws,
        broker,
        stop: Some(stop),
    }
}

pub async fn start_chat_nodes(url: &str, channel: &str, count: usize) -> Vec<ChatNode> {
    let mut nodes = Vec::new();
    for _ in 0..count {
        nodes.push(start_chat_node(url, channel, true).await);
    }
    nodes
}

/// A real WebSocket client of the chat.
pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The peer id from the welcome.
    pub id: String,
    pub name: String,
}

impl Client {
    pub async fn connect(node: &ChatNode, name: &str) -> Self {
        let url = format!("ws://{}/api/ws?user={name}", node.addr);
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("WebSocket connect timed out")
            .expect("WebSocket connect failed");
        let mut client = Self {
            ws,
            id: String::new(),
            name: name.to_owned(),
        };
        let welcome = client.next_json().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        client.id = welcome["id"].as_str().unwrap().to_owned();
        client
    }

    pub async fn send_json(&mut self, value: Value) {
        self.ws.send(Frame::text(value.to_string())).await.unwrap();
    }

    /// The next text frame, as JSON.
    pub async fn next_json(&mut self) -> Value {
        self.try_next_json(WAIT)
            .await
            .unwrap_or_else(|| panic!("{} got nothing within {WAIT:?}", self.name))
    }

    async fn try_next_json(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()?;
            match frame.expect("the server closed the socket").unwrap() {
                Frame::Text(text) => return Some(serde_json::from_str(&text).unwrap()),
                Frame::Ping(_) | Frame::Pong(_) => {}
                other => panic!("{} got an unexpected frame {other:?}", self.name),
            }
        }
    }

    /// Nothing more arrives: a duplicate would follow its original closely.
    pub async fn assert_quiet(&mut self) {
        if let Some(extra) = self.try_next_json(Duration::from_millis(300)).await {
            panic!("{} got an unexpected extra message: {extra}", self.name);
        }
    }

    pub async fn join(&mut self, room: &str) {
        self.send_json(json!({"type": "join-room", "roomId": room}))
            .await;
        let joined = self.next_json().await;
        assert_eq!(joined["type"], "joined", "{joined}");
    }

    pub async fn say(&mut self, room: &str, text: &str) {
        self.send_json(json!({"type": "send-to-room", "roomId": room, "text": text}))
            .await;
    }
}

/// `POST path` with a JSON body, HTTP/1.1 over a plain socket: the status
/// and the JSON answer.
pub async fn post_json(node: &ChatNode, path: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        node.addr,
        body.len()
    );
    let mut stream = TcpStream::connect(node.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut response))
        .await
        .expect("no HTTP answer")
        .unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// An SSE stream of `topic` (HTTP/1.0, so the body is not chunked).
pub struct SseStream(BufReader<TcpStream>);

impl SseStream {
    /// Opens the stream and waits for its headers: from then on, the
    /// subscription is in place.
    pub async fn open(node: &ChatNode, topic: &str) -> Self {
        let mut stream = TcpStream::connect(node.addr).await.unwrap();
        let request = format!(
            "GET /api/sse?topic={topic} HTTP/1.0\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
            node.addr
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut sse = Self(BufReader::new(stream));
        let status = sse.line().await;
        assert!(status.contains(" 200 "), "SSE answered {status}");
        while !sse.line().await.is_empty() {}
        sse
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(WAIT, self.0.read_line(&mut line))
            .await
            .expect("the SSE stream went silent")
            .unwrap();
        line.trim_end_matches(['\r', '\n']).to_owned()
    }

    /// The JSON of the next `data:` line.
    pub async fn next_data(&mut self) -> Value {
        loop {
            if let Some(data) = self.line().await.strip_prefix("data:") {
                return serde_json::from_str(data.trim_start()).unwrap();
            }
        }
    }
}
