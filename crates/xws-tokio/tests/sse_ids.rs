//! SSE event ids on Tokio: live publications to a topic without history
//! carry no id, as on every other target. A per-node counter would tell a
//! client how much the node published on other topics, and would move its
//! `Last-Event-ID` off the last stream position it saw.

mod common;

use common::{quiet_limits, start, test_config, within};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xws::Handler;

struct Listener;

impl Handler for Listener {
    type Context = ();
}

#[tokio::test]
async fn events_on_a_topic_without_history_carry_no_id() {
    let server = start(Listener, test_config(quiet_limits())).await;
    let mut stream = within(
        "a TCP connection",
        tokio::net::TcpStream::connect(server.addr),
    )
    .await
    .unwrap();
    let request = format!(
        "GET /?topic=news HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
        server.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // Publish until the subscription is in place, then a few more.
    let hub = server.xws.hub();
    let publisher = tokio::spawn(async move {
        for n in 0.. {
            let _ = hub.publish("news", format!("n{n}")).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut received = String::new();
    let mut buffer = [0u8; 4096];
    while received.matches("data: n").count() < 3 {
        let read = within("three events", stream.read(&mut buffer))
            .await
            .unwrap();
        assert!(read > 0, "the stream ended: {received}");
        received.push_str(&String::from_utf8_lossy(&buffer[..read]));
    }
    publisher.abort();
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
    assert!(
        !received.lines().any(|line| line.starts_with("id:")),
        "an id on a topic without history:\n{received}"
    );
}
