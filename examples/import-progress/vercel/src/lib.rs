//! Import progress on Vercel.
//!
//! Three functions, one file each under `api/` (Vercel's layout):
//!
//! - `api/stream.rs`: [`import_progress::ImportStream`] behind
//!   [`xws_vercel::run_with`]: the token's user's latest import event, then
//!   every event of their imports, as server-sent events, until the stream
//!   ends before the function's max duration and `EventSource` reconnects
//!   with `Last-Event-ID`.
//! - `api/start-import.rs`: `POST /api/start-import?token=T`, answered 202
//!   at once; the import then runs in the same invocation after the response
//!   (`waitUntil`, [`Starter`]), publishing each step through Redis to the
//!   streams, whichever instance holds them.
//! - `api/login.rs`: `POST /api/login?user=U`, the demo login.
//!
//! The latest events and the topics' history live in the Redis the broker
//! uses (`XWS_REDIS_URL`).

use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use import_progress::{
    BODY_LIMIT, Import, ImportEvent, RedisProgress, STEP_DELAY, StartError, StartImport,
    publish_progress,
};
use vercel_runtime::{AppState, Request, Response, ResponseBody};
use xws::Hub;

/// Starts imports: checks the request, answers, and runs the import after
/// the response within this invocation.
#[derive(Clone, Debug)]
pub struct Starter {
    hub: Hub,
    latest: RedisProgress,
    step_delay: Duration,
}

impl Starter {
    /// Imports publishing through `hub` (joined to Redis, keeping
    /// [`import_progress::progress_history`]), their latest event kept in
    /// `latest`; batches `IMPORT_STEP_MS` apart (default
    /// [`STEP_DELAY`]).
    pub fn from_env(hub: Hub, latest: RedisProgress) -> Result<Self, vercel_runtime::Error> {
        let step_delay = match std::env::var("IMPORT_STEP_MS") {
            Ok(ms) => Duration::from_millis(ms.parse()?),
            Err(_) => STEP_DELAY,
        };
        Ok(Self {
            hub,
            latest,
            step_delay,
        })
    }

    /// `POST /api/start-import?token=T [{"total":N}]`: 401 without a valid
    /// token (before the body is read), 413 over [`BODY_LIMIT`], 400 for a
    /// bad body, else 202 `{"user","total"}` and the import runs on.
    pub async fn start(
        &self,
        request: Request,
        state: &AppState,
    ) -> Result<Response<ResponseBody>, vercel_runtime::Error> {
        if request.method() != "POST" {
            return json_response(405, &serde_json::json!({ "error": "POST only" }));
        }
        let token = query_param(&request, "token");
        let import = match self.parse(token.as_deref(), request).await {
            Ok(import) => import,
            Err(error) => return json_response(error.status(), &error.json()),
        };
        let accepted = import.accepted_json();
        let starter = self.clone();
        // Vercel keeps the invocation active until this ends (bounded by
        // the function's maxDuration), after the 202 went out.
        state.wait_until(async move { starter.run(import).await });
        json_response(202, &accepted)
    }

    async fn parse(&self, token: Option<&str>, request: Request) -> Result<Import, StartError> {
        let user = import_progress::user_from_token(token)?;
        let body = match Limited::new(request.into_body(), BODY_LIMIT)
            .collect()
            .await
        {
            Ok(body) => body.to_bytes(),
            Err(_) => return Err(StartError::TooLarge),
        };
        StartImport::for_user(user, &body)
    }

    /// Runs `import` batch by batch, each event published to its user's
    /// streams, up to `import-complete`.
    async fn run(&self, mut import: Import) {
        tracing::info!(user = %import.user, total = import.total, "import started");
        loop {
            tokio::time::sleep(self.step_delay).await;
            let event = import.step();
            if let Err(error) = publish_progress(&self.hub, &self.latest, &import, &event).await {
                tracing::error!(%error, user = %import.user, "publishing the import's progress failed");
                return;
            }
            if matches!(event, ImportEvent::ImportComplete { .. }) {
                break;
            }
        }
        tracing::info!(user = %import.user, checksum = import.checksum, "import complete");
    }
}

/// The decoded query parameter `name` of `request`.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    xws::RequestInfo::new(request.uri().path(), request.uri().query())
        .query_param(name)
        .map(Into::into)
}

/// A JSON answer.
pub fn json_response(
    status: u16,
    body: &serde_json::Value,
) -> Result<Response<ResponseBody>, vercel_runtime::Error> {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(ResponseBody::from(body.to_string()))?)
}
