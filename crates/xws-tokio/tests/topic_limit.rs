//! `Limits::max_topics_per_peer` over real sockets: a peer, and an SSE
//! request, may hold that many topics and not one more.

mod common;

use common::{Client, next_text, quiet_limits, send_text, start, test_config, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xws::{Handler, HookResult, Message, Peer};

/// `sub:T` subscribes, `unsub:T` unsubscribes; each answers `ok` or the error.
struct Subscriber;

impl Handler for Subscriber {
    type Context = ();

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        let text = message.text()?;
        let result = if let Some(topic) = text.strip_prefix("sub:") {
            peer.subscribe(topic)
        } else if let Some(topic) = text.strip_prefix("unsub:") {
            peer.unsubscribe(topic)
        } else {
            Ok(())
        };
        peer.send(result.map_or_else(|error| error.to_string(), |()| "ok".to_owned()))?;
        Ok(())
    }
}

async fn ask(client: &mut Client, request: &str) -> String {
    send_text(client, request).await;
    next_text(client).await
}

const LIMIT: usize = 256;

#[tokio::test]
async fn a_peer_holds_256_topics_and_not_one_more() {
    let server = start(Subscriber, test_config(quiet_limits())).await;
    let mut client = server.connect("/").await;
    for n in 0..LIMIT {
        assert_eq!(ask(&mut client, &format!("sub:t{n}")).await, "ok");
    }
    let refused = ask(&mut client, "sub:one-more").await;
    assert_eq!(
        refused,
        xws::Error::TooManyTopics { limit: LIMIT }.to_string()
    );
    assert_eq!(
        ask(&mut client, "sub:t0").await,
        "ok",
        "a topic it has is no new one"
    );
    assert_eq!(server.xws.topic_count(), LIMIT);

    assert_eq!(ask(&mut client, "unsub:t0").await, "ok");
    assert_eq!(
        ask(&mut client, "sub:one-more").await,
        "ok",
        "leaving frees a place"
    );
    drop(client);
    server.wait_until_empty().await;
}

/// The status line of a `GET` for an SSE stream of `topics`.
async fn sse_status(addr: std::net::SocketAddr, topics: usize) -> String {
    let query: Vec<String> = (0..topics).map(|n| format!("topic=t{n}")).collect();
    let mut stream = within("a TCP connection", tokio::net::TcpStream::connect(addr))
        .await
        .unwrap();
    let request = format!(
        "GET /?{} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n",
        query.join("&")
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 12];
    within("the status line", stream.read_exact(&mut head))
        .await
        .unwrap();
    String::from_utf8_lossy(&head).into_owned()
}

#[tokio::test]
async fn an_sse_request_names_at_most_256_topics() {
    let server = start(Subscriber, test_config(quiet_limits())).await;
    assert_eq!(sse_status(server.addr, LIMIT).await, "HTTP/1.1 200");
    assert_eq!(sse_status(server.addr, LIMIT + 1).await, "HTTP/1.1 400");
}
