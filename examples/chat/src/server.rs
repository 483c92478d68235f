//! The chat on Tokio: the handler on `/api/ws`, SSE on `/api/sse`, the
//! broadcast route and the page, in one axum app.

use axum::{
    Json, Router,
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use std::{future::Future, net::SocketAddr};
use tokio::net::TcpListener;
use xws::Hub;
use xws_tokio::Xws;

use crate::{ChatHandler, broadcast, protocol::BroadcastRequest};

/// The chat page.
const PAGE: &str = include_str!("../static/index.html");

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
    let state = ChatState {
        hub: xws.hub(),
        handler: xws.handler().clone(),
    };
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route_service("/api/ws", xws.ws())
        .route_service("/api/sse", xws.sse())
        .route("/api/broadcast", post(broadcast_route))
        .with_state(state)
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
    let app = app(&xws).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            xws.shutdown().await;
        })
        .await
}
