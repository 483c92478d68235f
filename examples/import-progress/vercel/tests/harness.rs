//! Import progress's functions as Vercel runs them: xws-vercel-local starts
//! two instances of each (processes sharing nothing but Redis) behind the
//! function bridge protocol, with a 6 s max duration; streams live 4 s and
//! the import's batches are 200 ms apart, so a stream ends mid-import.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use import_progress::stream_scenarios::{StreamDeployment, measure};
use xws_redis::testing::{require_redis, unique_channel};
use xws_vercel_local::{Function, Harness, HarnessConfig};

const MAX_DURATION: Duration = Duration::from_secs(6);
const LIFETIME: Duration = Duration::from_secs(4);
const STEP: Duration = Duration::from_millis(200);

/// The harness, stopped when dropped at the end of a test.
struct Deployed(Arc<Harness>);

impl Drop for Deployed {
    fn drop(&mut self) {
        let stats = self.0.stats();
        // Vercel never had to stop a function: every stream ended by itself.
        if !std::thread::panicking() {
            assert_eq!(
                (stats.cut_at_max_duration, stats.timed_out),
                (0, 0),
                "{stats:?}"
            );
        }
    }
}

/// The functions behind the harness on a free port.
async fn deploy(test: &str) -> (Deployed, StreamDeployment) {
    let redis = require_redis().await;
    let unique = unique_channel(test);
    let secret = format!("{unique}-secret");
    let function = |path: &str, binary: &str| Function {
        path: path.into(),
        binary: binary.into(),
    };
    let mut config = HarnessConfig::new(vec![
        function(
            "/api/stream",
            env!("CARGO_BIN_EXE_import-progress-vercel-stream"),
        ),
        function(
            "/api/start-import",
            env!("CARGO_BIN_EXE_import-progress-vercel-start-import"),
        ),
        function(
            "/api/login",
            env!("CARGO_BIN_EXE_import-progress-vercel-login"),
        ),
    ]);
    config.instances = 2;
    config.max_duration = MAX_DURATION;
    let step_ms = STEP.as_millis().to_string();
    config.env = [
        ("XWS_REDIS_URL", redis.as_str()),
        ("XWS_REDIS_CHANNEL", unique.as_str()),
        // Envelopes are sealed with it (HMAC); one per test run.
        ("XWS_REDIS_SECRET", secret.as_str()),
        ("IMPORT_REDIS_PREFIX", unique.as_str()),
        ("IMPORT_STEP_MS", step_ms.as_str()),
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
    let pin = |instance: &str| vec![("x-vercel-local-instance".to_owned(), instance.to_owned())];
    let deployment = StreamDeployment {
        http: format!("http://{addr}"),
        stream: format!("http://{addr}/api/stream"),
        stream_instances: vec![pin("0"), pin("1")],
        // The import runs on the instance the first stream is not on.
        start_headers: pin("1"),
        lifetime: LIFETIME,
        step: STEP,
    };
    (Deployed(harness), deployment)
}

import_progress::stream_scenario_tests!(deploy(module_path!()).await);

/// Not a check: time to first event and start-to-delivery latency, for
/// reports (`cargo nextest run -p import-progress-vercel --run-ignored only`).
#[tokio::test]
#[ignore = "a measurement, run by hand"]
#[allow(clippy::print_stderr)]
async fn latency() {
    let (_deployed, deployment) = deploy("latency").await;
    let (first, delivery) = measure(&deployment, 20).await.unwrap();
    eprintln!(
        "Vercel (xws-vercel-local, two instances): first event {}, start to delivery {}",
        import_progress::stream_scenarios::summary(&first),
        import_progress::stream_scenarios::summary(&delivery)
    );
}
