//! The chat on Tokio: the handler on `/api/ws` (and its SSE + POST fallback
//! on `/api/fallback`), SSE on `/api/sse`, the broadcast route, the server
//! API (`/api/server/…`, with `CHAT_API_KEY`), `/metrics`, the page and its
//! client `/xws.js`, in one axum app.

use axum::{
    Json, Router,
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use std::future::Future;
use tokio::net::TcpListener;
use xws::Hub;
use xws_tokio::Xws;

use crate::{ChatHandler, broadcast, protocol::BroadcastRequest};

/// The chat page.
const PAGE: &str = include_str!("../static/index.html");

/// How the server runs, beyond the handler's own settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Answer WebSocket upgrades on `/api/ws` with 403, as a proxy that
    /// blocks them would, so clients use the SSE + POST fallback. Set by
    /// `CHAT_REFUSE_WEBSOCKET=1`; the browser tests use it.
    pub refuse_websocket: bool,
    /// The key of the server API (`/api/server/…`, see `server_api`), from
    /// `CHAT_API_KEY`; `None` turns the API off.
    pub api_key: Option<String>,
    /// Record the xws metrics and serve them at `GET /metrics` in
    /// Prometheus format. On unless `CHAT_METRICS=off`.
    pub metrics: bool,
}

impl Options {
    /// Options from the environment (`CHAT_REFUSE_WEBSOCKET`, `CHAT_API_KEY`,
    /// `CHAT_METRICS`).
    pub fn from_env() -> Self {
        let refuse_websocket = std::env::var("CHAT_REFUSE_WEBSOCKET")
            .is_ok_and(|value| !value.is_empty() && value != "0");
        let api_key = std::env::var("CHAT_API_KEY")
            .ok()
            .filter(|key| !key.is_empty());
        let metrics = std::env::var("CHAT_METRICS").map_or(true, |value| value != "off");
        Self {
            refuse_websocket,
            api_key,
            metrics,
        }
    }
}

/// What the HTTP routes share.
#[derive(Clone)]
struct ChatState {
    hub: Hub,
    handler: ChatHandler,
}

/// The `?token=` of an HTTP route.
#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The chat's routes around `xws`.
pub fn app(xws: &Xws<ChatHandler>) -> Router {
    app_with(xws, Options::default())
}

/// The chat's routes around `xws`, run as `options` say.
pub fn app_with(xws: &Xws<ChatHandler>, options: Options) -> Router {
    let state = ChatState {
        hub: xws.hub(),
        handler: xws.handler().clone(),
    };
    let router = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route_service("/xws.js", xws_tokio::client_js())
        .route_service("/api/fallback", xws.fallback());
    let router = if options.refuse_websocket {
        router.route("/api/ws", get(refused_upgrade))
    } else {
        router.route_service("/api/ws", xws.ws())
    };
    let router = match options
        .metrics
        .then(xws_tokio::metrics::Prometheus::install)
    {
        Some(Ok(prometheus)) => router.route("/metrics", get(move || metrics_route(prometheus))),
        Some(Err(error)) => {
            tracing::warn!(%error, "no metrics at /metrics");
            router
        }
        None => router,
    };
    router
        .route_service("/api/sse", xws.sse())
        .route("/api/broadcast", post(broadcast_route))
        .with_state(state)
        .merge(crate::server_api::routes(xws, options.api_key.as_deref()))
}

/// `GET /metrics`: Prometheus text format.
async fn metrics_route(prometheus: xws_tokio::metrics::Prometheus) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            xws_tokio::metrics::CONTENT_TYPE,
        )],
        prometheus.render(),
    )
        .into_response()
}

async fn refused_upgrade() -> (StatusCode, &'static str) {
    (
        StatusCode::FORBIDDEN,
        "WebSocket upgrades are refused here (CHAT_REFUSE_WEBSOCKET)",
    )
}

/// `POST /api/broadcast`; like the WebSocket, it needs `?token=` when
/// `CHAT_TOKEN` is set. The token is checked before the body is read (401
/// whatever the body), and a body over 64 KiB answers 413.
async fn broadcast_route(
    State(state): State<ChatState>,
    Query(query): Query<TokenQuery>,
    body: axum::body::Body,
) -> Response {
    if !state.handler.accepts(query.token.as_deref()).await {
        return (StatusCode::UNAUTHORIZED, "missing or wrong token").into_response();
    }
    let Ok(body) = axum::body::to_bytes(body, crate::admin::BODY_LIMIT).await else {
        let message = "the body is over 64 KiB or was cut short";
        return (StatusCode::PAYLOAD_TOO_LARGE, message).into_response();
    };
    let request: BroadcastRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            let message = format!("expected {{\"event\":…,\"data\":…}}: {error}");
            return (StatusCode::BAD_REQUEST, message).into_response();
        }
    };
    match broadcast(&state.hub, request).await {
        Ok(reply) => Json(reply).into_response(),
        Err(error) => {
            tracing::error!(%error, "broadcast failed");
            let body = serde_json::json!({ "success": false, "error": error.to_string() });
            (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
        }
    }
}

/// Serves the chat on `listener` until `shutdown` resolves; then every peer
/// gets 1001 and SSE streams end.
pub async fn serve(
    listener: TcpListener,
    xws: Xws<ChatHandler>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, xws, Options::default(), shutdown).await
}

/// [`serve`] with `options`.
pub async fn serve_with(
    listener: TcpListener,
    xws: Xws<ChatHandler>,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app_with(&xws, options);
    xws_tokio::serve_app(listener, xws, app, shutdown).await
}
