//! The server API (`/api/server/…`, `CHAT_API_KEY`) through real
//! sockets: with the key a publication reaches the topic's WebSocket
//! subscribers and nobody else; without it, or with a wrong one, 401 and
//! nothing is delivered; with the API off, 404. Broadcast, presence,
//! disconnect (a peer, every peer of a user) and the topic list, each with
//! and without the key.

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
    let retention = chat::history::retention_from_env().unwrap();
    let xws = Xws::new(chat::ChatHandler::default())
        .with_streams(chat::history::stream_config(retention));
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
    request(addr, "POST", "/api/publish", key, &body.to_string()).await
}

/// One HTTP/1.1 request with `key` as the bearer token (or none); the
/// status and the body.
async fn request(
    addr: &str,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    // A server that answers before reading a large body may reset the
    // connection under the rest of it: the answer is still readable.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, stream.read_to_end(&mut answer))
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_owned())
}

async fn member_of(addr: &str, room: &str) -> WsClient {
    member_as(addr, room, "anyone").await
}

async fn member_as(addr: &str, room: &str, user: &str) -> WsClient {
    let url = format!("ws://{addr}/api/ws?user={user}");
    let mut peer = WsClient::connect(&url, format!("{user} in {room}"), WAIT)
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
    // The room keeps history: the publication also carries its position.
    for field in ["type", "event", "data"] {
        assert_eq!(got[field], event[field], "{got}");
    }
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

/// `GET /api/server/presence?topic=room:lobby` with the key.
async fn lobby_presence(addr: &str) -> serde_json::Value {
    let path = "/api/server/presence?topic=room:lobby";
    let (status, body) = request(addr, "GET", path, Some(KEY), "").await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Every route of the server API, with a body that would be valid.
const ROUTES: [(&str, &str, &str); 6] = [
    ("POST", "/api/publish", r#"{"topic":"room:lobby","data":1}"#),
    (
        "POST",
        "/api/server/publish",
        r#"{"topic":"room:lobby","data":1}"#,
    ),
    ("POST", "/api/server/broadcast", r#"{"data":1}"#),
    ("GET", "/api/server/presence?topic=room:lobby", ""),
    ("POST", "/api/server/disconnect", r#"{"user":"alice"}"#),
    ("GET", "/api/server/topics", ""),
];

#[tokio::test]
async fn every_route_needs_the_key_before_it_reads_anything() {
    let addr = chat(Some(KEY)).await;
    let mut alice = member_as(&addr, "lobby", "alice").await;
    for (method, path, body) in ROUTES {
        let (status, _) = request(&addr, method, path, None, body).await;
        assert_eq!(status, 401, "{method} {path} without a key");
        let (status, _) = request(&addr, method, path, Some("guess"), body).await;
        assert_eq!(status, 401, "{method} {path} with a wrong key");
        // Not even a malformed body is looked at without the key.
        let (status, _) = request(&addr, method, path, None, "{not json").await;
        assert_eq!(status, 401, "{method} {path}: the key comes first");
    }
    // None of it reached alice, who is still connected.
    alice.send_json(&json!({"type": "ping"})).await.unwrap();
    alice.recv_type("pong").await.unwrap();
    assert!(alice.passed_over().is_empty(), "{:?}", alice.passed_over());
    let chat_off = chat(None).await;
    for (method, path, body) in ROUTES {
        let (status, _) = request(&chat_off, method, path, Some(KEY), body).await;
        assert_eq!(status, 404, "{method} {path} with the API off");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let addr = chat(Some(KEY)).await;
    let big = format!(
        r#"{{"topic":"room:lobby","data":"{}"}}"#,
        "x".repeat(100 * 1024)
    );
    let (status, _) = request(&addr, "POST", "/api/server/publish", Some(KEY), &big).await;
    assert_eq!(status, 413);
    let (status, body) = request(&addr, "POST", "/api/server/publish", Some(KEY), "[1]").await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn broadcast_presence_and_topics_with_the_key() {
    let addr = chat(Some(KEY)).await;
    let mut alice = member_as(&addr, "lobby", "alice").await;
    let mut bob = member_as(&addr, "lobby", "bob").await;
    let mut carol = member_as(&addr, "other", "carol").await;

    let (status, body) = request(
        &addr,
        "POST",
        "/api/server/broadcast",
        Some(KEY),
        r#"{"data":{"type":"broadcast","event":"maintenance","data":"soon"}}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["delivered"],
        3
    );
    for peer in [&mut alice, &mut bob, &mut carol] {
        let got = peer.recv_type("broadcast").await.unwrap();
        assert_eq!(got["event"], "maintenance");
    }

    let presence = lobby_presence(&addr).await;
    let mut users: Vec<&str> = presence["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| member["user"].as_str().unwrap())
        .collect();
    users.sort_unstable();
    assert_eq!(users, ["alice", "bob"]);

    let (status, body) = request(&addr, "GET", "/api/server/topics", Some(KEY), "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        json!({"topics": [
            {"topic": "room:lobby", "subscribers": 2},
            {"topic": "room:other", "subscribers": 1},
        ]})
    );
}

#[tokio::test]
async fn disconnect_a_peer_or_every_peer_of_a_user() {
    let addr = chat(Some(KEY)).await;
    let mut alice_1 = member_as(&addr, "lobby", "alice").await;
    let mut alice_2 = member_as(&addr, "other", "alice").await;
    let mut bob = member_as(&addr, "lobby", "bob").await;
    // bob's id, from the presence list.
    let presence = lobby_presence(&addr).await;
    let bob_id = presence["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|member| member["user"] == "bob")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, body) = request(
        &addr,
        "POST",
        "/api/server/disconnect",
        Some(KEY),
        r#"{"user":"alice","code":4001,"reason":"banned"}"#,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"disconnected\":2"), "{body}");
    alice_1.expect_close(4001).await.unwrap();
    alice_2.expect_close(4001).await.unwrap();

    let disconnect_bob = json!({ "peer": bob_id }).to_string();
    let (status, body) = request(
        &addr,
        "POST",
        "/api/server/disconnect",
        Some(KEY),
        &disconnect_bob,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"disconnected\":1"), "{body}");
    bob.expect_close(1008).await.unwrap();

    // A peer that is not connected, a user with no peers.
    for nobody in [r#"{"peer":"no-such-peer"}"#, r#"{"user":"nobody"}"#] {
        let (status, body) =
            request(&addr, "POST", "/api/server/disconnect", Some(KEY), nobody).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"disconnected\":0"), "{nobody}: {body}");
    }
    for bad in [
        r#"{}"#,
        r#"{"peer":"a","user":"b"}"#,
        r#"{"user":"a","code":1006}"#,
    ] {
        let (status, body) = request(&addr, "POST", "/api/server/disconnect", Some(KEY), bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}
