//! The dashboard's functions as Vercel runs them: xws-vercel-local starts
//! two instances of each (processes sharing nothing but Redis) behind the
//! function bridge protocol, with a 6 s max duration; streams live 4 s.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use xws_redis::testing::{require_redis, unique_channel};
use xws_testkit::ScenarioError;
use xws_testkit::client::get;
use xws_testkit::serverless::{self, FunctionTarget, StreamUrl};
use xws_vercel_local::{Function, Harness, HarnessConfig};

const MAX_DURATION: Duration = Duration::from_secs(6);
const LIFETIME: Duration = Duration::from_secs(4);

/// The functions behind the harness on a free port, and the target the
/// scenarios use.
async fn deploy(test: &str) -> (Arc<Harness>, FunctionTarget) {
    let redis = require_redis().await;
    let unique = unique_channel(test);
    let secret = format!("{unique}-secret");
    let mut config = HarnessConfig::new(vec![
        Function {
            path: "/api/stream".into(),
            binary: env!("CARGO_BIN_EXE_dashboard-vercel-stream").into(),
        },
        Function {
            path: "/api/tick".into(),
            binary: env!("CARGO_BIN_EXE_dashboard-vercel-tick").into(),
        },
    ]);
    config.instances = 2;
    config.max_duration = MAX_DURATION;
    config.env = [
        ("XWS_REDIS_URL", redis.as_str()),
        ("XWS_REDIS_CHANNEL", unique.as_str()),
        // Envelopes are sealed with it (HMAC); one per test run.
        ("XWS_REDIS_SECRET", secret.as_str()),
        ("DASHBOARD_REDIS_PREFIX", unique.as_str()),
        ("XWS_SSE_MAX_DURATION_SECS", "6"),
        ("XWS_SSE_END_BEFORE_SECS", "2"),
        ("XWS_SSE_RETRY_MS", "300"),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let harness = Harness::start(config)
        .await
        .expect("starting the functions");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(harness.clone().serve(listener));
    let stream = format!("http://{addr}/api/stream");
    let tick = format!("http://{addr}/api/tick");
    let target = FunctionTarget {
        streams: (0..2)
            .map(|i| StreamUrl::new(&stream).header("x-vercel-local-instance", &i.to_string()))
            .collect(),
        publish: Arc::new(move || {
            let tick = tick.clone();
            Box::pin(async move {
                let answer = get(&tick, Duration::from_secs(5)).await?;
                if answer.status != 200 {
                    return Err(ScenarioError::mismatch(
                        "GET /api/tick",
                        "200",
                        answer.status,
                    ));
                }
                Ok(String::from_utf8_lossy(&answer.body).into_owned())
            })
        }),
        lifetime: LIFETIME,
        timeout: Duration::from_secs(5),
    };
    (harness, target)
}

async fn run(name: &str) {
    let (harness, target) = deploy(name).await;
    let (_, scenario) = serverless::ALL
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a scenario of that name");
    if let Err(error) = scenario(&target).await {
        panic!("{name}: {error}");
    }
    harness.check_running().await.expect("a function died");
    let stats = harness.stats();
    // Vercel never had to stop a function: every stream ended by itself.
    assert_eq!(
        (stats.cut_at_max_duration, stats.timed_out),
        (0, 0),
        "{stats:?}"
    );
}

#[tokio::test]
async fn function_stream_state_then_publications() {
    run("function_stream_state_then_publications").await;
}

#[tokio::test]
async fn function_stream_across_instances() {
    run("function_stream_across_instances").await;
}

#[tokio::test]
async fn function_stream_ends_before_limit() {
    run("function_stream_ends_before_limit").await;
}

/// The stream ends before the (shortened) limit and the reconnect with
/// `Last-Event-ID` resumes from the metrics topic's history in Redis.
#[tokio::test]
async fn function_stream_resumes_after_limit() {
    run("function_stream_resumes_after_limit").await;
}

#[tokio::test]
async fn function_websocket_refused() {
    run("function_websocket_refused").await;
}

/// Every request reached its function through the bridge: one `end`
/// message each.
#[tokio::test]
async fn every_request_is_ended_through_the_bridge() {
    let (harness, target) = deploy("bridge-ends").await;
    (target.publish)().await.unwrap();
    (target.publish)().await.unwrap();
    // An `end` message travels beside the response: it may come just after.
    let waited = tokio::time::timeout(Duration::from_secs(5), async {
        while harness.stats().pending_ends > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let stats = harness.stats();
    assert!(waited.is_ok(), "an end message never came: {stats:?}");
    assert_eq!((stats.requests, stats.ends), (2, 2), "{stats:?}");
}

/// Not a check: time to first event and publish-to-delivery latency, for
/// reports (`cargo nextest run -p dashboard-vercel --run-ignored only`).
#[tokio::test]
#[ignore = "a measurement, run by hand"]
#[allow(clippy::print_stderr)]
async fn latency() {
    let (_harness, target) = deploy("latency").await;
    let latencies = serverless::measure(&target, 20).await.unwrap();
    eprintln!("Vercel (xws-vercel-local, two instances): {latencies}");
}
