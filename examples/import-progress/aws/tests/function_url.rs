//! Import progress's function URL (`import-progress-sse`, response
//! streaming) on the local AWS stack: `cargo xtask test-aws import-progress`
//! deploys it a second time for these, with two environments of
//! `import-progress-sse` polling the runtime API (as Lambda runs concurrent
//! invocations in separate environments). The HTTP function starts each
//! import by invoking the worker asynchronously; the worker publishes
//! through Redis. Streams live 6 s (`XWS_SSE_MAX_DURATION_SECS=8`, ending
//! 2 s before); batches are 400 ms apart (`IMPORT_STEP_MS`), so an
//! import outlasts a stream.
//! `XWS_AWS_EMULATOR` is the emulator's `host:port`.

use std::time::Duration;

use import_progress::stream_scenarios::{StreamDeployment, measure, summary};

fn deployment() -> StreamDeployment {
    let emulator = std::env::var("XWS_AWS_EMULATOR")
        .expect("XWS_AWS_EMULATOR: run `cargo xtask test-aws import-progress`");
    StreamDeployment {
        http: format!("http://{emulator}"),
        stream: format!("http://{emulator}/api/stream"),
        // Lambda picks the environment: a second concurrent stream goes to
        // the other one, as the first keeps its environment busy.
        stream_instances: vec![Vec::new()],
        start_headers: Vec::new(),
        lifetime: Duration::from_secs(6),
        step: Duration::from_millis(400),
    }
}

import_progress::stream_scenario_tests!(((), deployment()));

/// Not a check: time to first event and start-to-delivery latency, for
/// reports (`--ignored latency` against this deployment).
#[tokio::test]
#[ignore = "a measurement, run by hand"]
#[allow(clippy::print_stderr)]
async fn latency() {
    let (first, delivery) = measure(&deployment(), 20).await.unwrap();
    eprintln!(
        "Lambda function URL (xws-aws-local, cargo lambda watch): first event {}, start to delivery {}",
        summary(&first),
        summary(&delivery)
    );
}
