//! The chat with signed tokens (`CHAT_JWT_SECRET`), through real sockets: a
//! missing, forged or expired token gets 401 before the upgrade; `sub` is
//! the peer's `user`; the `topics` claim limits the rooms a peer may join,
//! send to and follow over SSE; an open connection whose token expires is
//! closed with 3000. Two tests run the `chat` binary exactly as external
//! tests do (env `CHAT_JWT_SECRET`, or `CHAT_JWKS_URL`, and `PORT`).

use serde_json::{Value, json};
use std::time::Duration;
use xws_auth::{Claims, Issuer, now_seconds};
use xws_testkit::client::{WsClient, connect_rejected};
use xws_tokio::Xws;

const SECRET: &str = "a test secret of 32 bytes or more";
const WAIT: Duration = Duration::from_secs(10);

fn token(claims: &Claims) -> String {
    Issuer::hs256(SECRET.as_bytes()).issue(claims).unwrap()
}

fn valid_for(sub: &str, seconds: u64) -> Claims {
    Claims::new(sub, now_seconds() + seconds)
}

/// The chat in JWT mode on an ephemeral port; returns its `host:port`.
async fn jwt_chat() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let xws = Xws::new(chat::ChatHandler::with_jwt_secret(SECRET.as_bytes()));
    tokio::spawn(chat::server::serve(listener, xws, std::future::pending()));
    addr.to_string()
}

async fn connect(addr: &str, token: &str, label: &str) -> WsClient {
    let mut peer = WsClient::connect(&format!("ws://{addr}/api/ws?token={token}"), label, WAIT)
        .await
        .unwrap();
    peer.recv_type("welcome").await.unwrap();
    peer
}

async fn join(peer: &mut WsClient, room: &str) -> Value {
    peer.send_json(&json!({"type": "join-room", "roomId": room}))
        .await
        .unwrap();
    peer.recv_json_matching("joined or error", |v| {
        v["type"] == "joined" || v["type"] == "error"
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn missing_forged_and_expired_tokens_get_401_before_the_upgrade() {
    let addr = jwt_chat().await;
    let forged = Issuer::hs256(b"someone else's secret, 32 bytes+")
        .issue(&valid_for("ada", 60))
        .unwrap();
    let expired = token(&Claims::new("ada", now_seconds() - 1));
    for (case, query) in [
        ("missing", "user=ada".to_owned()),
        ("forged", format!("token={forged}")),
        ("expired", format!("token={expired}")),
        ("not a JWT", "token=s3cret".to_owned()),
    ] {
        let status = connect_rejected(&format!("ws://{addr}/api/ws?{query}"), WAIT)
            .await
            .unwrap();
        assert_eq!(status, 401, "{case} token");
    }
}

#[tokio::test]
async fn the_sub_claim_is_the_user_in_room_messages() {
    let addr = jwt_chat().await;
    // `?user=` cannot override the token's subject.
    let mut ada = WsClient::connect(
        &format!(
            "ws://{addr}/api/ws?user=mallory&token={}",
            token(&valid_for("ada", 60))
        ),
        "ada",
        WAIT,
    )
    .await
    .unwrap();
    ada.recv_type("welcome").await.unwrap();
    let mut bob = connect(&addr, &token(&valid_for("bob", 60)), "bob").await;
    assert_eq!(join(&mut ada, "lobby").await["type"], "joined");
    assert_eq!(join(&mut bob, "lobby").await["type"], "joined");
    ada.send_json(&json!({"type": "send-to-room", "roomId": "lobby", "text": "hi"}))
        .await
        .unwrap();
    let message = bob.recv_type("message").await.unwrap();
    assert_eq!(message["user"], "ada");
    assert_eq!(message["text"], "hi");
}

#[tokio::test]
async fn the_topics_claim_limits_rooms_and_a_refused_room_delivers_nothing() {
    let addr = jwt_chat().await;
    let limited = token(&valid_for("guest", 60).with_topics(["room:lobby"]));
    let staff = token(&valid_for("boss", 60).with_topics(["room:*"]));
    let mut guest = connect(&addr, &limited, "guest").await;
    let mut boss = connect(&addr, &staff, "boss").await;

    assert_eq!(join(&mut guest, "lobby").await["type"], "joined");
    let refused = join(&mut guest, "staff").await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("room:staff"),
        "{refused}"
    );
    assert_eq!(join(&mut boss, "staff").await["type"], "joined");
    assert_eq!(join(&mut boss, "lobby").await["type"], "joined");

    // Sending to a room outside the claim is refused too.
    guest
        .send_json(&json!({"type": "send-to-room", "roomId": "staff", "text": "let me in"}))
        .await
        .unwrap();
    assert_eq!(guest.recv_type("error").await.unwrap()["type"], "error");

    boss.send_json(&json!({"type": "send-to-room", "roomId": "staff", "text": "secret"}))
        .await
        .unwrap();
    boss.send_json(&json!({"type": "send-to-room", "roomId": "lobby", "text": "public"}))
        .await
        .unwrap();
    // The lobby message comes after the staff one: had the staff one been
    // delivered, it would be among the frames passed over.
    let public = guest.recv_type("message").await.unwrap();
    assert_eq!(public["text"], "public");
    guest
        .ensure_none_passed_over("staff room traffic", |v| v["roomId"] == "staff")
        .unwrap();
    // The connection stays open and usable after a refusal.
    guest.send_json(&json!({"type": "ping"})).await.unwrap();
    guest.recv_type("pong").await.unwrap();
}

#[tokio::test]
async fn sse_needs_a_token_that_allows_the_topic() {
    let addr = jwt_chat().await;
    let limited = token(&valid_for("guest", 60).with_topics(["room:lobby"]));
    let cases = [
        (format!("/api/sse?topic=room:lobby&token={limited}"), 200),
        (format!("/api/sse?topic=room:staff&token={limited}"), 403),
        ("/api/sse?topic=room:lobby".to_owned(), 401),
    ];
    for (path, expected) in cases {
        let url = format!("http://{addr}{path}");
        let status = status_of(&url).await;
        assert_eq!(status, expected, "{path}");
    }
}

/// The status of `GET url` as an event stream, without reading the body.
async fn status_of(url: &str) -> u16 {
    let answer = tokio::time::timeout(WAIT, get_head(url)).await.unwrap();
    answer.unwrap()
}

async fn get_head(url: &str) -> std::io::Result<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let request = format!(
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = vec![0; 32];
    stream.read_exact(&mut head).await?;
    let line = String::from_utf8_lossy(&head);
    Ok(line[9..12].parse().unwrap())
}

#[tokio::test]
async fn an_open_connection_is_closed_with_3000_when_its_token_expires() {
    let addr = jwt_chat().await;
    // A peer that only listens: the Tokio timer closes it.
    let mut idle = connect(&addr, &token(&valid_for("ada", 2)), "idle").await;
    idle.expect_close(3000).await.unwrap();
    // A fresh token opens a new connection.
    connect(&addr, &token(&valid_for("ada", 60)), "refreshed").await;
}

#[tokio::test]
async fn the_broadcast_route_takes_a_valid_token_only() {
    let addr = jwt_chat().await;
    let body = json!({"event": "e", "data": null});
    let client = |query: String| {
        let url = format!("http://{addr}/api/broadcast?{query}");
        let body = body.clone();
        async move {
            xws_testkit::client::post_json(&url, &body, WAIT)
                .await
                .unwrap()
                .status
                .as_u16()
        }
    };
    assert_eq!(client(String::new()).await, 401);
    assert_eq!(client("token=nope".into()).await, 401);
    let good = token(&valid_for("ada", 60));
    assert_eq!(client(format!("token={good}")).await, 200);
}

/// The `chat` binary with `env` on a free port, once it listens; killed on
/// drop. Configured only by its environment, as tests outside this
/// repository run it.
async fn chat_binary(env: &[(&str, &str)]) -> (tokio::process::Child, String) {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_chat"));
    for name in [
        "CHAT_JWT_SECRET",
        "CHAT_JWKS_URL",
        "CHAT_JWT_AUDIENCE",
        "CHAT_TOKEN",
        "XWS_REDIS_URL",
    ] {
        command.env_remove(name);
    }
    let child = command
        .envs(env.iter().copied())
        .env("PORT", port.to_string())
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(&addr).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "chat never listened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, addr)
}

#[tokio::test]
async fn the_binary_reads_chat_jwt_secret() {
    let (_chat, addr) = chat_binary(&[("CHAT_JWT_SECRET", SECRET)]).await;
    let status = connect_rejected(&format!("ws://{addr}/api/ws"), WAIT)
        .await
        .unwrap();
    assert_eq!(status, 401);
    let mut ada = connect(&addr, &token(&valid_for("ada", 60)), "ada").await;
    let mut bob = connect(&addr, &token(&valid_for("bob", 60)), "bob").await;
    join(&mut ada, "lobby").await;
    join(&mut bob, "lobby").await;
    bob.send_json(&json!({"type": "send-to-room", "roomId": "lobby", "text": "yo"}))
        .await
        .unwrap();
    assert_eq!(ada.recv_type("message").await.unwrap()["user"], "bob");
}

/// xws-auth's test key set, served by a provider on 127.0.0.1; its URL.
async fn jwks_provider() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const JWKS: &str = include_str!("../../../crates/xws-auth/tests/keys/jwks.json");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 2048];
            let _ = socket.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{JWKS}",
                JWKS.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    url
}

/// With `CHAT_JWKS_URL`, tokens signed by a key of the provider's set open
/// a connection as their `sub`; an unknown key and an HS256 token get 401.
#[tokio::test]
async fn the_binary_verifies_tokens_against_chat_jwks_url() {
    const RSA_PRIVATE: &[u8] =
        include_bytes!("../../../crates/xws-auth/tests/keys/rsa_private.pem");
    let url = jwks_provider().await;
    let env = [
        ("CHAT_JWKS_URL", url.as_str()),
        ("CHAT_JWT_AUDIENCE", "xws-chat"),
    ];
    let (_chat, addr) = chat_binary(&env).await;
    let rsa = Issuer::rs256_pem(RSA_PRIVATE).unwrap();
    let claims = |sub: &str| Claims::new(sub, now_seconds() + 60).with_audience("xws-chat");
    let unknown_key = rsa.clone().key_id("rsa-9").issue(&claims("eve")).unwrap();
    let hs256 = Issuer::hs256(SECRET.as_bytes())
        .issue(&claims("eve"))
        .unwrap();
    for (case, token) in [("an unknown key", unknown_key), ("an HS256 token", hs256)] {
        let url = format!("ws://{addr}/api/ws?token={token}");
        assert_eq!(connect_rejected(&url, WAIT).await.unwrap(), 401, "{case}");
    }
    let signed = |sub: &str| rsa.clone().key_id("rsa-1").issue(&claims(sub)).unwrap();
    let mut ada = connect(&addr, &signed("ada"), "ada").await;
    let mut bob = connect(&addr, &signed("bob"), "bob").await;
    join(&mut ada, "lobby").await;
    join(&mut bob, "lobby").await;
    bob.send_json(&json!({"type": "send-to-room", "roomId": "lobby", "text": "hi"}))
        .await
        .unwrap();
    assert_eq!(ada.recv_type("message").await.unwrap()["user"], "bob");
}
