//! The scheduled job's publications reach WebSocket peers (after the
//! current metrics on open) and SSE listeners, through real sockets.

use std::time::Duration;
use tokio::net::TcpListener;
use xws_testkit::client::{WsClient, sse_connect};

const WAIT: Duration = Duration::from_secs(5);

async fn start() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(dashboard::server::serve(
        listener,
        Duration::from_millis(50),
        std::future::pending(),
    ));
    addr.to_string()
}

fn sample_of(value: &serde_json::Value) -> u64 {
    assert_eq!(value["type"], "metrics", "unexpected message {value}");
    value["metrics"]["sample"]
        .as_u64()
        .expect("a sample number")
}

#[tokio::test]
async fn a_peer_gets_the_current_metrics_then_every_update_in_order() {
    let addr = start().await;
    // Let the job run once so there are current metrics to send on open.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut peer = WsClient::connect(&format!("ws://{addr}/api/ws"), "viewer", WAIT)
        .await
        .unwrap();
    let first = sample_of(&peer.recv_type("metrics").await.unwrap());
    assert!(first >= 1, "open sends the latest sample");
    let mut last = first;
    for _ in 0..5 {
        let next = sample_of(&peer.recv_type("metrics").await.unwrap());
        assert!(next > last, "samples arrive in order: {next} after {last}");
        last = next;
    }
}

#[tokio::test]
async fn sse_listeners_get_the_updates_and_other_topics_are_refused() {
    let addr = start().await;
    let mut stream = sse_connect(
        &format!("http://{addr}/api/sse?topic=metrics-updates"),
        WAIT,
    )
    .await
    .unwrap();
    let event = stream.next_event().await.unwrap();
    let value: serde_json::Value =
        serde_json::from_str(event.data.as_deref().unwrap_or_default()).unwrap();
    assert!(sample_of(&value) >= 1);
    // The Tokio dashboard keeps no history for this topic, so its events
    // carry no id (ids are stream positions; a counter would leak volume).
    assert_eq!(event.id, None, "an id on a topic without history");

    let refused = xws_testkit::client::get(&format!("http://{addr}/api/sse?topic=user:1"), WAIT)
        .await
        .unwrap();
    assert_eq!(refused.status, 403);
}
