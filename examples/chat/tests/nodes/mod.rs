//! Chat servers sharing one real Redis, and the clients that talk to them.
#![allow(dead_code, unused_imports)] // each test file uses a different subset

use chat::ChatHandler;
use serde_json::Value;
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::{net::TcpListener, sync::oneshot, time::Instant};
use xws_redis::{RedisBroker, RedisBrokerConfig, RedisStreams};
use xws_testkit::{
    chat::{join_room, send_to_room},
    client::{Frame, SseClient, WsClient, post_json, sse_connect},
};
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
        .with_secret(xws_redis::testing::TEST_SECRET)
        .with_channel(channel)
        .with_backoff(Duration::from_millis(20), Duration::from_millis(500));
    let broker = Arc::new(RedisBroker::new(config.clone()).unwrap());
    let history = Arc::new(RedisStreams::new(config).unwrap());
    let retention = xws::stream::Retention::new(100, Duration::from_secs(300));
    let xws = Xws::new(ChatHandler::new(None))
        .with_broker(broker.clone())
        .with_stream_store(chat::history::stream_config(retention), history);
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

/// A real WebSocket client of the chat (the conformance suite's client),
/// strict: every frame it gets must be one the test asks for.
pub struct Client {
    ws: WsClient,
    /// The peer id from the welcome.
    pub id: String,
    pub name: String,
}

impl Client {
    pub async fn connect(node: &ChatNode, name: &str) -> Self {
        Self::try_connect(&node.addr.to_string(), name)
            .await
            .unwrap()
    }

    /// Connects to the chat at `addr` (a node, or a balancer in front of
    /// nodes); `Err` when the handshake fails.
    pub async fn try_connect(addr: &str, name: &str) -> Result<Self, xws_testkit::ScenarioError> {
        let url = format!("ws://{addr}/api/ws?user={name}");
        let ws = WsClient::connect(&url, name, WAIT).await?;
        let mut client = Self {
            ws,
            id: String::new(),
            name: name.to_owned(),
        };
        let welcome = client.next_json().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        client.id = welcome["id"].as_str().unwrap().to_owned();
        Ok(client)
    }

    /// Waits for the server to close this client's connection with `code`.
    pub async fn expect_close(&mut self, code: u16) {
        self.ws.expect_close(code).await.unwrap();
    }

    pub async fn send_json(&mut self, value: Value) {
        self.ws.send_json(&value).await.unwrap();
    }

    /// The next frame, which must be JSON.
    pub async fn next_json(&mut self) -> Value {
        match self.ws.recv_matching("any frame", |_| true).await.unwrap() {
            Frame::Json(value) => value,
            other => panic!("{} got {}", self.name, other.summary()),
        }
    }

    /// Nothing more arrives: a cross-node duplicate would follow its original
    /// within milliseconds, so a short quiet period shows there is none.
    pub async fn assert_quiet(&mut self) {
        let deadline = Instant::now() + Duration::from_millis(300);
        if let Some(extra) = self.ws.next_frame_until(deadline).await {
            panic!(
                "{} got an unexpected extra frame: {}",
                self.name,
                extra.summary()
            );
        }
    }

    pub async fn join(&mut self, room: &str) {
        self.send_json(join_room(room)).await;
        let joined = self.next_json().await;
        assert_eq!(joined["type"], "joined", "{joined}");
    }

    pub async fn say(&mut self, room: &str, text: &str) {
        self.send_json(send_to_room(room, text)).await;
    }
}

/// `POST /api/broadcast` on `node`: the status and the JSON answer.
pub async fn post_broadcast(node: &ChatNode, body: &Value) -> (u16, Value) {
    let url = format!("http://{}/api/broadcast", node.addr);
    let response = post_json(&url, body, WAIT).await.unwrap();
    (response.status.as_u16(), response.json().unwrap())
}

/// Opens an SSE stream of `topic` on `node`; once it returns, the
/// subscription is in place.
pub async fn open_sse(node: &ChatNode, topic: &str) -> SseClient {
    let url = format!("http://{}/api/sse?topic={topic}", node.addr);
    sse_connect(&url, WAIT).await.unwrap()
}

/// The JSON data of the next event.
pub async fn next_sse_json(stream: &mut SseClient) -> Value {
    let event = stream.next_event().await.unwrap();
    serde_json::from_str(event.data.as_deref().unwrap_or_default()).unwrap()
}
