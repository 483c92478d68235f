//! Starting imports (an asynchronous `Invoke` of the worker function) and
//! running them (the worker's body).

use aws_sdk_lambda::{primitives::Blob, types::InvocationType};
use std::time::Duration;

use import_progress::{
    Import, ImportEvent, RedisProgress, STEP_DELAY, progress_history, publish, publish_progress,
};
use serde_json::{Value, json};
use xws::{BoxError, Hub};

/// The worker function, invoked asynchronously (`InvocationType: Event`)
/// as on AWS: the HTTP function answers at once and the import runs on.
#[derive(Clone, Debug)]
pub struct Worker {
    lambda: aws_sdk_lambda::Client,
    function: String,
}

impl Worker {
    /// The function `function` (a name or ARN) through `lambda`.
    pub fn new(lambda: aws_sdk_lambda::Client, function: impl Into<String>) -> Self {
        Self {
            lambda,
            function: function.into(),
        }
    }

    /// The function `WORKER_FUNCTION` names (default `import-progress-worker`), with the
    /// SDK configured from the environment (`AWS_ENDPOINT_URL_LAMBDA` for
    /// local runs).
    pub async fn from_env() -> Self {
        let sdk = xws_aws::sdk_config().await;
        let function = std::env::var("WORKER_FUNCTION")
            .ok()
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| "import-progress-worker".into());
        Self::new(aws_sdk_lambda::Client::new(&sdk), function)
    }

    /// Queues `import` for the worker; returns once Lambda accepted it.
    pub async fn start(&self, import: &Import) -> Result<(), BoxError> {
        self.lambda
            .invoke()
            .function_name(&self.function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(serde_json::to_vec(import)?))
            .send()
            .await?;
        Ok(())
    }
}

/// Where the worker publishes besides the WebSocket connections: the
/// function URL's streams, through Redis (which keeps each user's latest
/// event and the topic's history the streams resume from).
#[derive(Clone, Debug)]
pub struct Streams {
    hub: Hub,
    latest: RedisProgress,
}

impl Streams {
    /// Joined to `XWS_REDIS_URL` (see [`xws_aws::function_url`]), keeping
    /// [`progress_history`] as the SSE function does.
    pub async fn from_env() -> Result<Self, BoxError> {
        Ok(Self {
            hub: xws_aws::function_url::hub_from_env_with(progress_history()).await?,
            latest: RedisProgress::from_env().await?,
        })
    }
}

/// The pause between batches: `IMPORT_STEP_MS`, else [`STEP_DELAY`].
pub fn step_delay() -> Result<Duration, BoxError> {
    Ok(match std::env::var("IMPORT_STEP_MS") {
        Ok(ms) => Duration::from_millis(ms.parse()?),
        Err(_) => STEP_DELAY,
    })
}

/// The worker's body: `import` batch by batch, `step` apart, each batch's
/// event published to the user's WebSocket connections (`hub`) and SSE
/// streams (`streams`), up to `import-complete`. Answers
/// `{"user","total","checksum"}`.
pub async fn run_import(
    hub: &Hub,
    streams: &Streams,
    step: Duration,
    mut import: Import,
) -> Result<Value, BoxError> {
    tracing::info!(user = %import.user, total = import.total, "import started");
    loop {
        tokio::time::sleep(step).await;
        let event = import.step();
        publish(hub, &import, &event).await?;
        publish_progress(&streams.hub, &streams.latest, &import, &event).await?;
        if matches!(event, ImportEvent::ImportComplete { .. }) {
            break;
        }
    }
    tracing::info!(user = %import.user, checksum = import.checksum, "import complete");
    Ok(json!({ "user": import.user, "total": import.total, "checksum": import.checksum }))
}
