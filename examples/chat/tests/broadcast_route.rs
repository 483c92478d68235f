//! `POST /api/broadcast` through real sockets: the token is checked before
//! the body is read or parsed (401 for any body without it), and the body
//! has an explicit limit (413 past 64 KiB), not axum's 2 MB default.

use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xws_tokio::Xws;

const TOKEN: &str = "chat-secret";
const WAIT: Duration = Duration::from_secs(10);

async fn chat() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let xws = Xws::new(chat::ChatHandler::new(Some(TOKEN.to_owned())));
    tokio::spawn(chat::server::serve(listener, xws, std::future::pending()));
    addr.to_string()
}

/// `POST /api/broadcast?{query}` with `body` as JSON; the status.
async fn broadcast(addr: &str, query: &str, body: &str) -> u16 {
    let request = format!(
        "POST /api/broadcast?{query} HTTP/1.1\r\nHost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    // The server may answer, and close, before it takes the whole body.
    let _ = stream.write_all(body.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, stream.read_to_end(&mut answer))
        .await
        .expect("an answer in time");
    let answer = String::from_utf8_lossy(&answer);
    answer
        .get(9..12)
        .and_then(|status| status.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

#[tokio::test]
async fn without_the_token_any_body_is_401_and_with_it_the_body_is_limited() {
    let addr = chat().await;
    let malformed = "{not json";
    assert_eq!(broadcast(&addr, "", malformed).await, 401, "no token");
    assert_eq!(
        broadcast(&addr, "token=guess", malformed).await,
        401,
        "wrong token"
    );
    let large = json!({"event": "e", "data": "x".repeat(100 * 1024)}).to_string();
    assert_eq!(broadcast(&addr, "", &large).await, 401, "no token, large");

    let token = format!("token={TOKEN}");
    assert_eq!(broadcast(&addr, &token, malformed).await, 400);
    assert_eq!(broadcast(&addr, &token, &large).await, 413);
    let fine = json!({"event": "deploy", "data": {"version": 2}}).to_string();
    assert_eq!(broadcast(&addr, &token, &fine).await, 200);
}
