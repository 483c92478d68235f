//! The server API (`POST /api/publish`, `CHAT_API_KEY`) through real
//! sockets: with the key a publication reaches the topic's WebSocket
//! subscribers and nobody else; without it, or with a wrong one, 401 and
//! nothing is delivered; with the API off, 404.

use serde_json::json;
use std::time::Duration;
use xws_testkit::client::WsClient;
use xws_tokio::Xws;

const KEY: &str = "backend key";
const WAIT: Duration = Duration::from_secs(10);

async fn chat(api_key: Option<&str>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = chat::server::Options {
        api_key: api_key.map(str::to_owned),
        ..Default::default()
    };
    let xws = Xws::new(chat::ChatHandler::default());
    tokio::spawn(chat::server::serve_with(
        listener,
        xws,
        options,
        std::future::pending(),
    ));
    addr.to_string()
}

/// `POST /api/publish` with `key` as the bearer token (or none).
async fn publish(addr: &str, key: Option<&str>, body: serde_json::Value) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.to_string();
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    let request = format!(
        "POST /api/publish HTTP/1.1\r\nHost: {addr}\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(WAIT, stream.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_owned())
}

async fn member_of(addr: &str, room: &str) -> WsClient {
    let mut peer = WsClient::connect(&format!("ws://{addr}/api/ws"), room, WAIT)
        .await
        .unwrap();
    peer.recv_type("welcome").await.unwrap();
    peer.send_json(&json!({"type": "join-room", "roomId": room}))
        .await
        .unwrap();
    peer.recv_type("joined").await.unwrap();
    peer
}

#[tokio::test]
async fn a_backend_with_the_key_publishes_to_a_topic() {
    let addr = chat(Some(KEY)).await;
    let mut lobby = member_of(&addr, "lobby").await;
    let mut other = member_of(&addr, "other").await;
    let event = json!({"type": "broadcast", "event": "deploy", "data": "v2"});

    let (status, _) = publish(
        &addr,
        None,
        json!({"topic": "room:lobby", "data": {"n": 0}}),
    )
    .await;
    assert_eq!(status, 401, "no key");
    let (status, _) = publish(
        &addr,
        Some("guess"),
        json!({"topic": "room:lobby", "data": {"n": 0}}),
    )
    .await;
    assert_eq!(status, 401, "wrong key");
    let (status, _) = publish(&addr, Some(KEY), json!({"topic": "bad\ntopic", "data": 1})).await;
    assert_eq!(status, 400, "invalid topic");

    let (status, body) = publish(
        &addr,
        Some(KEY),
        json!({"topic": "room:lobby", "data": event}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"delivered\":1"), "{body}");
    let got = lobby.recv_type("broadcast").await.unwrap();
    assert_eq!(got, event);
    // Nothing from the refused publications reached anyone, and the other
    // room got nothing at all.
    lobby
        .ensure_none_passed_over("refused publications", |v| v.get("n").is_some())
        .unwrap();
    other.send_json(&json!({"type": "ping"})).await.unwrap();
    other.recv_type("pong").await.unwrap();
    other
        .ensure_none_passed_over("another room's publication", |v| v["type"] == "broadcast")
        .unwrap();
}

#[tokio::test]
async fn without_chat_api_key_the_route_is_off() {
    let addr = chat(None).await;
    let (status, _) = publish(&addr, Some(KEY), json!({"topic": "room:lobby", "data": 1})).await;
    assert_eq!(status, 404);
}
