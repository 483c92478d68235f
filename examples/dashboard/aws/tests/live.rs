//! The dashboard on the local AWS stack: moto (DynamoDB), the
//! `dashboard-{ws,tick,http,sse}` functions on the Lambda runtime API of `cargo
//! lambda watch`, the `xws-aws-local` emulator firing `dashboard-tick` on
//! its EventBridge schedule. `cargo xtask test-aws dashboard` starts the
//! stack and runs these with the `live` feature; `XWS_AWS_EMULATOR` is the
//! emulator's `host:port`. The function URL's streams: `tests/function_url.rs`.

#![allow(clippy::print_stderr)]

use dashboard::LatestMetrics;
use serde_json::Value;
use std::time::Duration;
use xws_testkit::client::{WsClient, get};

/// A function's first invocation takes a while, and the schedule fires
/// every few seconds.
const WAIT: Duration = Duration::from_secs(30);

fn emulator() -> String {
    std::env::var("XWS_AWS_EMULATOR")
        .expect("XWS_AWS_EMULATOR: run `cargo xtask test-aws dashboard`")
}

async fn viewer(label: &str) -> WsClient {
    WsClient::connect(&format!("ws://{}/api/ws", emulator()), label, WAIT)
        .await
        .expect("the WebSocket function accepts viewers")
}

async fn next_sample(peer: &mut WsClient) -> u64 {
    let message = peer.recv_type("metrics").await.expect("metrics arrive");
    message["metrics"]["sample"]
        .as_u64()
        .unwrap_or_else(|| panic!("a sample number in {message}"))
}

async fn scheduled_runs() -> u64 {
    let answer = get(&format!("http://{}/@xws/stats", emulator()), WAIT)
        .await
        .expect("emulator stats");
    let stats: Value = serde_json::from_slice(&answer.body).expect("stats are JSON");
    stats["scheduled"].as_u64().unwrap_or(0)
}

async fn latest() -> Option<u64> {
    let store = dashboard_aws::DynamoLatest::from_env()
        .await
        .expect("the test environment names the table");
    store
        .get()
        .await
        .expect("DynamoDB answers")
        .map(|m| m.sample)
}

/// Every subscriber gets each scheduled publication, in order.
#[tokio::test]
async fn the_scheduled_publish_reaches_every_subscriber() {
    let runs = scheduled_runs().await;
    let mut peers = [viewer("one").await, viewer("two").await];
    let mut seen = Vec::new();
    for peer in &mut peers {
        let first = next_sample(peer).await;
        let second = next_sample(peer).await;
        assert!(second > first, "samples in order: {second} after {first}");
        seen.push(second);
    }
    assert!(
        scheduled_runs().await > runs,
        "the publications came from the EventBridge schedule"
    );
    // Both viewers see the same run once both are subscribed.
    let target = seen.iter().copied().max().unwrap() + 1;
    for peer in &mut peers {
        let mut sample = next_sample(peer).await;
        while sample < target {
            sample = next_sample(peer).await;
        }
        assert_eq!(sample, target, "{} missed run {target}", peer.label());
    }
}

/// A viewer that opens after a run gets that run's metrics first, sent by
/// the `open` hook from DynamoDB, without waiting for the next run.
#[tokio::test]
async fn a_viewer_opening_after_a_run_gets_the_current_metrics_first() {
    let mut watcher = viewer("watcher").await;
    next_sample(&mut watcher).await;
    next_sample(&mut watcher).await; // a run after the watcher subscribed
    for attempt in 0..5 {
        let before = latest().await.expect("a run stored its metrics");
        let mut late = viewer("late").await;
        let first = next_sample(&mut late).await;
        if latest().await == Some(before) {
            assert_eq!(first, before, "the current metrics first");
            return;
        }
        eprintln!("attempt {attempt}: a run came in between; again");
    }
    panic!("a run came between every attempt's reads");
}

/// The page and its client are served by the HTTP function.
#[tokio::test]
async fn the_page_and_its_client_are_served() {
    let page = get(&format!("http://{}/", emulator()), WAIT).await.unwrap();
    assert_eq!(page.status, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("/xws.js"));
    let client = get(&format!("http://{}/xws.js", emulator()), WAIT)
        .await
        .unwrap();
    assert_eq!(client.status, 200);
}
