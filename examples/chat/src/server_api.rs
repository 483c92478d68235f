//! The server API: routes for a backend in any language, under
//! `/api/server/`, each answering JSON. Every request needs
//! `Authorization: Bearer $CHAT_API_KEY`; the key is checked before the
//! body is read, and a body over [`BODY_LIMIT`] answers 413. Without
//! `CHAT_API_KEY` the routes answer 404, so no server exposes them by
//! accident. See the chat's README for curl examples.
//!
//! | route | body or query | answer |
//! |---|---|---|
//! | `POST /api/server/publish` (also `/api/publish`) | `{"topic","data"}` | `{"delivered":N}` |
//! | `POST /api/server/broadcast` | `{"data"}` | `{"delivered":N}` |
//! | `GET /api/server/presence?topic=room:lobby` | | `{"members":[{"id","user"}]}` |
//! | `POST /api/server/disconnect` | `{"peer"}` or `{"user"}`, optional `"code"`, `"reason"` | `{"disconnected":N}` |
//! | `GET /api/server/topics` | | `{"topics":[{"topic","subscribers"}]}` |
//!
//! Publish, broadcast and presence reach every node sharing Redis; topics
//! and disconnect act on the node that answers.

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Query, Request, State},
    http::{StatusCode, header::AUTHORIZATION},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use xws::{CloseCode, CloseFrame, Hub, PeerId};
use xws_tokio::Xws;

use crate::ChatHandler;

/// The largest request body the server API reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// What the routes share.
#[derive(Clone)]
struct ApiState {
    xws: Xws<ChatHandler>,
    hub: Hub,
    key: Option<Arc<str>>,
}

/// The server API's routes, guarded by `key`.
pub(crate) fn routes(xws: &Xws<ChatHandler>, key: Option<&str>) -> Router {
    let state = ApiState {
        xws: xws.clone(),
        hub: xws.hub(),
        key: key.map(Into::into),
    };
    Router::new()
        .route("/api/publish", post(publish))
        .route("/api/server/publish", post(publish))
        .route("/api/server/broadcast", post(broadcast))
        .route("/api/server/presence", get(presence))
        .route("/api/server/disconnect", post(disconnect))
        .route("/api/server/topics", get(topics))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), require_key))
        .with_state(state)
}

/// Answers 404 when the API is off and 401 without the key, before any
/// extractor reads the body or the query.
async fn require_key(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let Some(expected) = state.key.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            "the server API is off (CHAT_API_KEY)",
        )
            .into_response();
    };
    let given = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if !given.is_some_and(|key| constant_time_eq(key.as_bytes(), expected.as_bytes())) {
        return (StatusCode::UNAUTHORIZED, "missing or wrong API key").into_response();
    }
    next.run(request).await
}

/// Compares without stopping at the first difference, so the time an
/// answer takes says nothing about how much of the key was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses a JSON body, or answers 400 saying what was expected.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8], expected: &str) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|error| {
        (
            StatusCode::BAD_REQUEST,
            format!("expected {expected}: {error}"),
        )
            .into_response()
    })
}

/// 400 for what the caller got wrong, 500 (logged) for the rest.
fn failed(error: xws::Error, what: &str) -> Response {
    match error {
        xws::Error::InvalidTopic { .. } => {
            (StatusCode::BAD_REQUEST, error.to_string()).into_response()
        }
        xws::Error::Unsupported { .. } => {
            (StatusCode::NOT_IMPLEMENTED, error.to_string()).into_response()
        }
        error => {
            tracing::error!(%error, "server API {what} failed");
            (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response()
        }
    }
}

#[derive(Deserialize)]
struct PublishBody {
    topic: String,
    data: Value,
}

/// `POST /api/server/publish {"topic","data"}`: `data` goes to the topic's
/// subscribers as JSON text, as is.
async fn publish(State(state): State<ApiState>, body: axum::body::Bytes) -> Response {
    let request: PublishBody = match parse(&body, "{\"topic\":…,\"data\":…}") {
        Ok(request) => request,
        Err(response) => return response,
    };
    match state.hub.publish_json(&request.topic, &request.data).await {
        Ok(delivery) => Json(json!({ "delivered": delivery.delivered })).into_response(),
        Err(error) => failed(error, "publish"),
    }
}

#[derive(Deserialize)]
struct BroadcastBody {
    data: Value,
}

/// `POST /api/server/broadcast {"data"}`: to every connected peer.
async fn broadcast(State(state): State<ApiState>, body: axum::body::Bytes) -> Response {
    let request: BroadcastBody = match parse(&body, "{\"data\":…}") {
        Ok(request) => request,
        Err(response) => return response,
    };
    match state.hub.broadcast_json(&request.data).await {
        Ok(delivery) => Json(json!({ "delivered": delivery.delivered })).into_response(),
        Err(error) => failed(error, "broadcast"),
    }
}

#[derive(Deserialize)]
struct TopicQuery {
    topic: String,
}

/// `GET /api/server/presence?topic=room:lobby`: the room's members.
async fn presence(State(state): State<ApiState>, Query(query): Query<TopicQuery>) -> Response {
    match state.xws.presence(&query.topic).await {
        Ok(members) => {
            let members: Vec<Value> = members
                .iter()
                .map(|member| {
                    json!({
                        "id": member.id.to_string(),
                        "user": crate::history::member_user(&member.info),
                    })
                })
                .collect();
            Json(json!({ "members": members })).into_response()
        }
        Err(error) => failed(error, "presence"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisconnectBody {
    peer: Option<String>,
    user: Option<String>,
    code: Option<u16>,
    reason: Option<String>,
}

/// `POST /api/server/disconnect {"peer"} | {"user"}`: closes that peer, or
/// every peer of that user, on this node (default code 1008).
async fn disconnect(State(state): State<ApiState>, body: axum::body::Bytes) -> Response {
    let request: DisconnectBody = match parse(&body, "{\"peer\":…} or {\"user\":…}") {
        Ok(request) => request,
        Err(response) => return response,
    };
    let code = request.code.unwrap_or(CloseCode::POLICY_VIOLATION.as_u16());
    // Only codes an application may send (RFC 6455 7.4: 1000, 1001,
    // 1008–1014 and 3000–4999).
    if !matches!(code, 1000 | 1001 | 1008..=1014 | 3000..=4999) {
        let message = format!("code {code} is not one a server may send");
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    let frame = CloseFrame::new(
        CloseCode::from(code),
        request
            .reason
            .unwrap_or_else(|| "disconnected by the server".into()),
    );
    let peers = match (request.peer, request.user) {
        (Some(peer), None) => vec![PeerId::from(peer)],
        (None, Some(user)) => state.xws.handler().peers_of(&user),
        _ => {
            let message = "give exactly one of \"peer\" and \"user\"";
            return (StatusCode::BAD_REQUEST, message).into_response();
        }
    };
    let disconnected = peers
        .iter()
        .filter(|peer| state.xws.disconnect(peer, frame.clone()))
        .count();
    Json(json!({ "disconnected": disconnected })).into_response()
}

/// `GET /api/server/topics`: topics with subscribers on this node.
async fn topics(State(state): State<ApiState>) -> Response {
    let topics: Vec<Value> = state
        .xws
        .topics()
        .into_iter()
        .map(|count| json!({ "topic": count.topic.as_str(), "subscribers": count.subscribers }))
        .collect();
    Json(json!({ "topics": topics })).into_response()
}
