//! The dashboard's function URL (`dashboard-sse`, response streaming) on
//! the local AWS stack: `cargo xtask test-aws dashboard` deploys it a second
//! time for these, without the schedule (each publication is the test's
//! own) and with two environments of `dashboard-sse` polling the runtime
//! API, as Lambda runs concurrent invocations in separate environments.
//! Streams live 6 s (`XWS_SSE_MAX_DURATION_SECS=8`, ending 2 s before);
//! the tick function publishes through Redis. `XWS_AWS_EMULATOR` is the
//! emulator's `host:port`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use xws_testkit::ScenarioError;
use xws_testkit::client::post_json;
use xws_testkit::serverless::{self, FunctionTarget, StreamUrl};

const LIFETIME: Duration = Duration::from_secs(6);
/// A function's first invocation takes a while.
const WAIT: Duration = Duration::from_secs(30);

fn target() -> FunctionTarget {
    let emulator = std::env::var("XWS_AWS_EMULATOR")
        .expect("XWS_AWS_EMULATOR: run `cargo xtask test-aws dashboard`");
    let stream = StreamUrl::new(format!("http://{emulator}/api/sse"));
    let tick = format!("http://{emulator}/@xws/schedules/dashboard-tick");
    FunctionTarget {
        // Lambda picks the environment: a second concurrent stream goes to
        // the other one, as the first keeps its environment busy.
        streams: vec![stream.clone(), stream],
        publish: Arc::new(move || {
            let tick = tick.clone();
            Box::pin(async move {
                let answer = post_json(&tick, &Value::Null, WAIT).await?;
                let ran: Value = answer.json()?;
                ran["published"].as_str().map(str::to_owned).ok_or_else(|| {
                    ScenarioError::mismatch("the tick function's answer", "published", ran)
                })
            })
        }),
        lifetime: LIFETIME,
        timeout: WAIT,
    }
}

async fn run(name: &str) {
    let (_, scenario) = serverless::ALL
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a scenario of that name");
    if let Err(error) = scenario(&target()).await {
        panic!("{name}: {error}");
    }
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

/// Not a check: time to first event and publish-to-delivery latency, for
/// reports (against `cargo xtask dev aws dashboard`: `--ignored latency`).
#[tokio::test]
#[ignore = "a measurement, run by hand"]
#[allow(clippy::print_stderr)]
async fn latency() {
    let latencies = serverless::measure(&target(), 20).await.unwrap();
    eprintln!("Lambda function URL (xws-aws-local, cargo lambda watch): {latencies}");
}
