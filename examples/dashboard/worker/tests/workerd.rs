//! The dashboard on a plain Worker under real workerd (`wrangler dev
//! --local`): the `xws_testkit::serverless` scenarios. Every stream is its
//! own Worker request, sharing nothing with the others; publications go
//! through the metrics topic's Durable Object. Streams live 6 s here
//! (`XWS_SSE_MAX_DURATION_SECS=8`, ending 2 s before, set by the xtask).
//!
//! `cargo xtask test cloudflare` builds the Worker, starts `wrangler dev` and
//! runs these with `XWS_CF_DASHBOARD_WORKER_URL` set. Run by hand without
//! it, they fail: they never skip.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use xws_testkit::ScenarioError;
use xws_testkit::client::post_json;
use xws_testkit::serverless::{self, FunctionTarget, StreamUrl};

const LIFETIME: Duration = Duration::from_secs(6);
const WAIT: Duration = Duration::from_secs(10);

fn target() -> FunctionTarget {
    let base = std::env::var("XWS_CF_DASHBOARD_WORKER_URL").expect(
        "XWS_CF_DASHBOARD_WORKER_URL must point at `wrangler dev`; run `cargo xtask test cloudflare`",
    );
    let stream = StreamUrl::new(format!("{base}/api/stream"));
    let tick = format!("{base}/api/tick");
    FunctionTarget {
        streams: vec![stream.clone(), stream],
        publish: Arc::new(move || {
            let tick = tick.clone();
            Box::pin(async move {
                let answer = post_json(&tick, &Value::Null, WAIT).await?;
                if answer.status != 200 {
                    return Err(ScenarioError::mismatch(
                        "POST /api/tick",
                        "200",
                        answer.status,
                    ));
                }
                Ok(String::from_utf8_lossy(&answer.body).into_owned())
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

#[tokio::test]
async fn function_stream_resumes_after_limit() {
    run("function_stream_resumes_after_limit").await;
}

#[tokio::test]
async fn function_websocket_refused() {
    run("function_websocket_refused").await;
}

/// Not a check: time to first event and publish-to-delivery latency, for
/// reports (against `cargo xtask dev cloudflare dashboard-worker`:
/// `--ignored latency`).
#[tokio::test]
#[ignore = "a measurement, run by hand"]
#[allow(clippy::print_stderr)]
async fn latency() {
    let latencies = serverless::measure(&target(), 20).await.unwrap();
    eprintln!("plain Worker (wrangler dev, workerd): {latencies}");
}
