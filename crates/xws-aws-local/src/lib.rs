//! # xws-aws-local: API Gateway WebSocket and HTTP APIs on your machine
//!
//! No installable tool emulates an API Gateway WebSocket API without Docker,
//! so this crate is one, for Lambda functions running under
//! `cargo lambda watch`:
//!
//! - WebSocket upgrades on the configured path become `$connect` events
//!   (headers and query); a non-2xx answer refuses the upgrade with that
//!   status. Text messages become `$default` events (one at a time per
//!   connection), and the end of the connection a `$disconnect` event with
//!   the close code.
//! - Routes a SAM template declares (`--template template.yaml`): a
//!   message whose route selection expression picks a `MOCK` route is
//!   answered with the route's response template, without invoking the
//!   function, as API Gateway does (the examples answer the app ping
//!   `{"xws":"ping"}` so).
//! - `POST|GET|DELETE /@connections/{id}` is the Management API; unknown
//!   ids, and connections still inside `$connect`, answer `410 GoneException`.
//! - API Gateway's limits: 128 KB messages (larger close with 1009, larger
//!   posts answer 413), binary frames close with 1003, idle connections close
//!   with 1001 after the idle timeout (10 minutes by default).
//! - Function URLs (`--function-url /api/sse=sse`): requests under the path
//!   go to `cargo lambda watch`'s function-URL endpoint for that function,
//!   and the answer is streamed back as it arrives, so a function in
//!   response-streaming mode (`InvokeMode: RESPONSE_STREAM`) streams, e.g.
//!   server-sent events.
//! - Other requests go to the HTTP function as HTTP API (payload 2.0) events.
//! - `POST /2015-03-31/functions/{name}/invocations` with
//!   `X-Amz-Invocation-Type: Event` answers 202 and invokes in the background
//!   (asynchronous invocation, which `cargo lambda watch` lacks); point
//!   `AWS_ENDPOINT_URL_LAMBDA` at the emulator.
//! - Schedules (`--schedule tick=2s`) invoke a function at a fixed rate with
//!   the `Scheduled Event` payload of an EventBridge rule;
//!   `POST /@xws/schedules/{function}` fires one at once.
//! - `GET /@xws/stats` counts events and Management API calls.
//!
//! ```text
//! cargo lambda watch -A 127.0.0.1 -P 9000
//! xws-aws-local --port 3000 --ws-path /api/ws \
//!     --function http://127.0.0.1:9000/2015-03-31/functions/ws/invocations \
//!     --http-function http://127.0.0.1:9000/2015-03-31/functions/http/invocations
//! ```
//! and give the functions `XWS_APIGW_ENDPOINT=http://127.0.0.1:3000`.
//! (`cargo xtask dev aws` runs `cargo lambda watch --only-lambda-apis`
//! instead and starts each prebuilt function binary with
//! `AWS_LAMBDA_RUNTIME_API=http://127.0.0.1:9000/.rt/{name}`.)

mod config;
pub mod events;
mod function_url;
mod http_api;
pub mod invoke;
mod lambda_api;
mod management;
mod registry;
mod routes;
mod schedule;
mod stats;
mod websocket;

pub use config::{EmulatorConfig, MAX_MESSAGE_BYTES};
pub use function_url::{BadFunctionUrl, FunctionUrl};
pub use routes::{BadTemplate, Selected, WsRoutes};
pub use schedule::{BadSchedule, Schedule, scheduled_event};
pub use stats::{Stats, StatsSnapshot};

use axum::{
    Router,
    body::Bytes,
    extract::{ConnectInfo, FromRequestParts, Request, State, ws::WebSocketUpgrade},
    http::header,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use std::{net::SocketAddr, sync::Arc};
use tokio::net::TcpListener;

/// The emulator's shared state.
#[derive(Debug)]
pub struct Emulator {
    config: EmulatorConfig,
    registry: registry::Registry,
    stats: Stats,
    client: reqwest::Client,
}

impl Emulator {
    /// An emulator with `config`.
    pub fn new(config: EmulatorConfig) -> Arc<Self> {
        Arc::new(Self {
            config,
            registry: registry::Registry::default(),
            stats: Stats::default(),
            client: reqwest::Client::new(),
        })
    }

    /// What happened so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.registry.len()
    }

    /// The routes.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route(
                "/@connections/{id}",
                post(management::post)
                    .get(management::get)
                    .delete(management::delete),
            )
            .route(
                "/2015-03-31/functions/{name}/invocations",
                post(lambda_api::invoke),
            )
            .route("/@xws/stats", get(stats))
            .route("/@xws/schedules/{function}", post(schedule::trigger))
            .fallback(route)
            .with_state(self.clone())
    }

    /// Serves on `listener`, and fires the schedules, until the future is
    /// dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        let schedules: Vec<_> = self
            .config
            .schedules
            .iter()
            .map(|s| tokio::spawn(schedule::run(self.clone(), s.clone())))
            .map(AbortOnDrop)
            .collect();
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(listener, app).await;
        drop(schedules);
        served
    }
}

/// Stops a schedule's task with the server.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn stats(State(emulator): State<Arc<Emulator>>) -> Response {
    axum::Json(emulator.stats()).into_response()
}

/// WebSocket upgrades on the WebSocket path, function-URL paths to their
/// functions, everything else to the HTTP function.
async fn route(
    State(emulator): State<Arc<Emulator>>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let is_upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if is_upgrade && parts.uri.path() == emulator.config.ws_path {
        return match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
            Ok(ws) => {
                websocket::upgrade(emulator.clone(), ws, &parts.uri, &parts.headers, source).await
            }
            Err(rejection) => rejection.into_response(),
        };
    }
    let body: Bytes = match axum::body::to_bytes(body, 10 * 1024 * 1024).await {
        Ok(body) => body,
        Err(_) => {
            return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, "body over 10 MB").into_response();
        }
    };
    if let Some(url) = emulator
        .config
        .function_urls
        .iter()
        .find(|url| url.serves(parts.uri.path()))
    {
        return function_url::forward(
            &emulator,
            url,
            &parts.method,
            &parts.uri,
            &parts.headers,
            body,
        )
        .await;
    }
    http_api::forward(
        &emulator,
        &parts.method,
        &parts.uri,
        &parts.headers,
        body,
        source,
    )
    .await
}
