//! `GET /metrics` after a known load: what the Prometheus endpoint counts
//! is what the clients did and saw. Deliveries to readers that keep up,
//! messages refused by the rate limit (each answered with an error the
//! client counts), an oversized message, and a reader that never reads
//! (its queue fills: drops, then close 1013).
//!
//! One test, one process: the recorder is the process's.

use serde_json::{Value, json};
use std::time::Duration;
use xws_testkit::client::{Frame, WsClient};
use xws_tokio::Xws;

const WAIT: Duration = Duration::from_secs(10);
const READERS: usize = 3;
const SENT: usize = 20;
const FLOOD: usize = 40;
const SLOW_PUBLICATIONS: usize = 400;

/// The sum of the samples of `name` whose labels include `label`.
fn value(scrape: &str, name: &str, label: Option<(&str, &str)>) -> f64 {
    scrape
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, labels) = series.split_once('{').unwrap_or((series, ""));
            let wanted = metric == name
                && label.is_none_or(|(k, v)| labels.contains(&format!("{k}=\"{v}\"")));
            wanted.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

async fn scrape(addr: &str) -> String {
    let response = xws_testkit::client::get(&format!("http://{addr}/metrics"), WAIT)
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert!(
        response
            .content_type
            .as_deref()
            .is_some_and(|ct| ct.starts_with("text/plain")),
        "{:?}",
        response.content_type
    );
    String::from_utf8(response.body.to_vec()).unwrap()
}

/// Scrapes until `done` holds (counters the server records after the
/// client has seen the effect, such as a close), at most `WAIT`.
async fn scrape_until(addr: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = scrape(addr).await;
        if done(&text) || tokio::time::Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn member_of(addr: &str, label: &str, room: &str) -> WsClient {
    let mut peer = WsClient::connect(&format!("ws://{addr}/api/ws"), label, WAIT)
        .await
        .unwrap();
    peer.recv_type("welcome").await.unwrap();
    peer.send_json(&json!({"type": "join-room", "roomId": room}))
        .await
        .unwrap();
    peer.recv_type("joined").await.unwrap();
    peer
}

fn is_chat(value: &Value) -> bool {
    value["type"] == "message"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_endpoint_counts_what_the_clients_did() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut config = xws_tokio::Config::default();
    config.limits.rate = Some(xws::RateLimit {
        messages_per_second: 1,
        burst: 25,
        tolerance: 5,
    });
    config.limits.send_queue = 64;
    let retention = chat::history::retention_from_env().unwrap();
    let xws = Xws::with_config(chat::ChatHandler::default(), config)
        .with_streams(chat::history::stream_config(retention));
    let hub = xws.hub();
    let options = chat::server::Options {
        metrics: true,
        ..Default::default()
    };
    tokio::spawn(chat::server::serve_with(
        listener,
        xws,
        options,
        std::future::pending(),
    ));

    // Readers that keep up: every chat message reaches each of them once.
    let mut readers = Vec::new();
    for n in 0..READERS {
        readers.push(member_of(&addr, &format!("reader {n}"), "lobby").await);
    }
    let mut sender = member_of(&addr, "sender", "lobby").await;
    let before = scrape(&addr).await;
    for n in 0..SENT {
        sender
            .send_json(&json!({"type": "send-to-room", "roomId": "lobby", "text": format!("m{n}")}))
            .await
            .unwrap();
    }
    for reader in &mut readers {
        for _ in 0..SENT {
            reader
                .recv_json_matching("a chat message", is_chat)
                .await
                .unwrap();
        }
    }
    let after = scrape(&addr).await;
    let delta = |name: &str, label| value(&after, name, label) - value(&before, name, label);
    let rooms = Some(("pattern", "room:*"));
    assert_eq!(
        delta("xws_publications_total", rooms),
        SENT as f64,
        "{after}"
    );
    assert_eq!(
        delta("xws_deliveries_total", rooms),
        (SENT * READERS) as f64,
        "each reader got {SENT}: {after}"
    );
    assert_eq!(delta("xws_messages_in_total", None), SENT as f64);
    assert!(delta("xws_messages_out_total", None) >= (SENT * READERS) as f64);
    assert!(delta("xws_bytes_in_total", None) > 0.0);
    assert_eq!(
        value(&after, "xws_connections_open", None),
        (READERS + 1) as f64
    );
    assert!(
        value(&after, "xws_publish_delivery_seconds_count", rooms) >= SENT as f64,
        "{after}"
    );

    // A flood: each refused message is answered with an error; past the
    // tolerance the peer is closed with 1008.
    let mut flooder = member_of(&addr, "flooder", "flood").await;
    for _ in 0..FLOOD {
        if flooder.send_json(&json!({"type": "ping"})).await.is_err() {
            break;
        }
    }
    let mut refused = 0;
    loop {
        match flooder
            .next_frame_until(tokio::time::Instant::now() + WAIT)
            .await
        {
            Some(Frame::Json(value))
                if value["type"] == "error"
                    && value["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("rate")) =>
            {
                refused += 1;
            }
            Some(Frame::Close(close)) => {
                assert_eq!(close.map(|(code, _)| code), Some(1008));
                break;
            }
            Some(Frame::Ended(why)) => panic!("ended without a close frame: {why}"),
            None => panic!("the flooder was never closed"),
            Some(_) => {}
        }
    }
    assert!(refused > 0);
    let text = scrape_until(&addr, |text| {
        value(text, "xws_connections_closed_total", Some(("code", "1008"))) >= 1.0
    })
    .await;
    assert_eq!(
        value(&text, "xws_drops_total", Some(("reason", "rate_limit"))),
        refused as f64,
        "one drop per error the flooder got: {text}"
    );
    assert_eq!(
        value(
            &text,
            "xws_connections_closed_total",
            Some(("code", "1008"))
        ),
        1.0
    );

    // One message over the size limit: close 1009.
    let mut big = member_of(&addr, "big", "big").await;
    big.send_text("x".repeat(70 * 1024)).await.unwrap();
    big.expect_close(1009).await.unwrap();
    let text = scrape_until(&addr, |text| {
        value(text, "xws_connections_closed_total", Some(("code", "1009"))) >= 1.0
    })
    .await;
    assert_eq!(
        value(&text, "xws_drops_total", Some(("reason", "oversize"))),
        1.0
    );

    // A reader that never reads: its queue (64 messages, 1 MiB) fills; what did not fit
    // is dropped and the peer closed with 1013. Every publication is
    // either queued for it or dropped, and it receives at most what was
    // queued.
    let mut slow = member_of(&addr, "slow", "slow").await;
    let before = scrape(&addr).await;
    let payload = "y".repeat(32 * 1024);
    for n in 0..SLOW_PUBLICATIONS {
        hub.publish_json(
            "room:slow",
            &json!({"type": "bulk", "n": n, "payload": payload}),
        )
        .await
        .unwrap();
    }
    let after = scrape_until(&addr, |text| {
        value(text, "xws_connections_closed_total", Some(("code", "1013"))) >= 1.0
    })
    .await;
    let delta = |name: &str, label| value(&after, name, label) - value(&before, name, label);
    let queued = delta("xws_deliveries_total", rooms);
    let dropped = value(&after, "xws_drops_total", Some(("reason", "slow_reader")));
    assert!(dropped >= 1.0, "{after}");
    assert_eq!(queued + dropped, SLOW_PUBLICATIONS as f64, "{after}");
    assert_eq!(
        value(
            &after,
            "xws_connections_closed_total",
            Some(("code", "1013"))
        ),
        1.0
    );
    let mut received = 0;
    loop {
        match slow
            .next_frame_until(tokio::time::Instant::now() + WAIT)
            .await
        {
            Some(Frame::Json(value)) if value["type"] == "bulk" => received += 1,
            Some(Frame::Close(_) | Frame::Ended(_)) | None => break,
            Some(_) => {}
        }
    }
    assert!(
        received as f64 <= queued && received < SLOW_PUBLICATIONS,
        "received {received}, queued {queued}"
    );
}
