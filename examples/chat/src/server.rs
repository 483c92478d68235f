//! The chat on Tokio: the handler on `/api/ws` (and its SSE + POST fallback
//! on `/api/fallback`), SSE on `/api/sse`, the broadcast route, the page and
//! its client `/xws.js`, in one axum app.

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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Answer WebSocket upgrades on `/api/ws` with 403, as a proxy that
    /// blocks them would, so clients use the SSE + POST fallback. Set by
    /// `CHAT_REFUSE_WEBSOCKET=1`; the browser tests use it.
    pub refuse_websocket: bool,
}

impl Options {
    /// Options from the environment (`CHAT_REFUSE_WEBSOCKET`).
    pub fn from_env() -> Self {
        let refuse_websocket = std::env::var("CHAT_REFUSE_WEBSOCKET")
            .is_ok_and(|value| !value.is_empty() && value != "0");
        Self { refuse_websocket }
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
    router
        .route_service("/api/sse", xws.sse())
        .route("/api/broadcast", post(broadcast_route))
        .with_state(state)
}

async fn refused_upgrade() -> (StatusCode, &'static str) {
    (
        StatusCode::FORBIDDEN,
        "WebSocket upgrades are refused here (CHAT_REFUSE_WEBSOCKET)",
    )
}

/// `POST /api/broadcast`; like the WebSocket, it needs `?token=` when
/// `CHAT_TOKEN` is set.
async fn broadcast_route(
    State(state): State<ChatState>,
    Query(query): Query<TokenQuery>,
    Json(request): Json<BroadcastRequest>,
) -> Response {
    if !state.handler.accepts(query.token.as_deref()) {
        return (StatusCode::UNAUTHORIZED, "missing or wrong token").into_response();
    }
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
