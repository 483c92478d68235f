//! The dashboard under real workerd (`wrangler dev --local --test-scheduled`):
//! the cron trigger's job reaches WebSocket peers and SSE listeners, and a
//! peer that opens afterwards gets the stored metrics first.
//!
//! `cargo xtask test cloudflare` builds the Worker, starts `wrangler dev` and
//! runs these tests with `XWS_CF_DASHBOARD_URL` set; they share one Durable Object, so
//! they run one at a time. Run by hand without it, they fail: they never skip.

use std::time::Duration;

use tokio::time::Instant;

use serde_json::Value;
use xws_testkit::client::{Frame, WsClient, get, sse_connect};

/// How long any single expected frame or request may take.
const WAIT: Duration = Duration::from_secs(10);

fn base_url() -> String {
    std::env::var("XWS_CF_DASHBOARD_URL").expect(
        "XWS_CF_DASHBOARD_URL must point at `wrangler dev`; run `cargo xtask test cloudflare`",
    )
}

fn ws_url() -> String {
    format!("{}/api/ws", base_url().replacen("http", "ws", 1))
}

/// Fires the cron trigger the way the platform would.
async fn run_cron() {
    let url = format!("{}/__scheduled?cron=*+*+*+*+*", base_url());
    let response = get(&url, WAIT).await.unwrap();
    assert_eq!(response.status, 200, "{url}: {:?}", response.body);
}

/// The sample number of a `{"type":"metrics",…}` message.
fn sample_of(value: &Value) -> u64 {
    assert_eq!(value["type"], "metrics", "unexpected message {value}");
    value["metrics"]["sample"]
        .as_u64()
        .unwrap_or_else(|| panic!("no sample in {value}"))
}

/// The peer's very first frame, which must be JSON.
async fn first_frame(peer: &mut WsClient) -> Value {
    match peer.next_frame_until(Instant::now() + WAIT).await {
        Some(Frame::Json(value)) => value,
        other => panic!(
            "{}: expected a JSON frame first, got {other:?}",
            peer.label()
        ),
    }
}

#[tokio::test]
async fn the_cron_job_reaches_peers_and_listeners_and_later_peers_get_it_first() {
    // One run first, so there are stored metrics whatever ran before.
    run_cron().await;
    let mut early = WsClient::connect(&ws_url(), "early", WAIT).await.unwrap();
    let current = sample_of(&first_frame(&mut early).await);
    let mut listener = sse_connect(
        &format!("{}/api/sse?topic=metrics-updates", base_url()),
        WAIT,
    )
    .await
    .unwrap();

    run_cron().await;
    let published = sample_of(&early.recv_type("metrics").await.unwrap());
    assert!(
        published > current,
        "a new sample after {current}, got {published}"
    );
    let event = listener.next_event().await.unwrap();
    let data: Value = serde_json::from_str(event.data.as_deref().unwrap_or_default()).unwrap();
    assert_eq!(sample_of(&data), published, "SSE carries the same sample");

    // A peer opening now gets the stored sample before anything else.
    let mut late = WsClient::connect(&ws_url(), "late", WAIT).await.unwrap();
    let first = sample_of(&first_frame(&mut late).await);
    assert!(first >= published, "got {first}, published {published}");

    // And both are subscribed to what comes next, in order.
    run_cron().await;
    for peer in [&mut early, &mut late] {
        let next = sample_of(&peer.recv_type("metrics").await.unwrap());
        assert!(
            next > published,
            "{}: {next} after {published}",
            peer.label()
        );
    }
}

#[tokio::test]
async fn listeners_may_follow_the_metrics_only() {
    let refused = get(&format!("{}/api/sse?topic=user:1", base_url()), WAIT)
        .await
        .unwrap();
    assert_eq!(refused.status, 403);
    let page = get(&format!("{}/", base_url()), WAIT).await.unwrap();
    assert_eq!(page.status, 200);
    let client = get(&format!("{}/xws.js", base_url()), WAIT).await.unwrap();
    assert_eq!(client.status, 200);
    assert!(
        client
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/javascript")),
        "xws.js is served as JavaScript: {:?}",
        client.content_type
    );
}

/// The worker runs with an Origin allow-list of its own page (the test
/// step sets `XWS_ALLOWED_ORIGINS`): another origin gets 403 before the
/// upgrade hook, on the WebSocket and the SSE route alike; its own origin
/// and native clients (no `Origin`) connect.
#[tokio::test]
async fn an_origin_outside_the_allow_list_is_refused_with_403() {
    use tokio_tungstenite::tungstenite::{Error, client::IntoClientRequest};
    let own = base_url();
    for (origin, allowed) in [
        (Some("https://evil.example"), false),
        (Some(own.as_str()), true),
        (None, true),
    ] {
        let mut request = ws_url().into_client_request().unwrap();
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", origin.parse().unwrap());
        }
        let status = match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("an answer in time")
        {
            Ok((_, response)) => response.status().as_u16(),
            Err(Error::Http(response)) => response.status().as_u16(),
            Err(error) => panic!("{origin:?}: {error}"),
        };
        let expected = if allowed { 101 } else { 403 };
        assert_eq!(status, expected, "WebSocket from {origin:?}");
    }
    let sse = format!("{}/api/sse?topic=metrics-updates", base_url());
    let refused =
        xws_testkit::client::get_with_headers(&sse, &[("origin", "https://evil.example")], WAIT)
            .await
            .unwrap();
    assert_eq!(refused.status, 403, "SSE from another origin");
}
