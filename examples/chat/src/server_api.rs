//! The server API on Tokio: routes for a backend in any language, under
//! `/api/server/`, each answering JSON. The routes, the key check and the
//! answers are [`crate::admin`]'s, shared with the Cloudflare and AWS
//! builds; this is their axum mount and what a Tokio node knows. Every
//! request needs `Authorization: Bearer $CHAT_API_KEY`, checked before the
//! body is read; a body over [`admin::BODY_LIMIT`] answers 413. Without
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
    extract::{Request, State},
    http::{StatusCode, header::AUTHORIZATION},
    response::{IntoResponse, Response},
    routing::any,
};
use std::sync::Arc;
use xws::{CloseFrame, Hub, PeerId};
use xws_tokio::Xws;

use crate::{ChatHandler, admin};

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
        .route("/api/publish", any(api))
        .route("/api/server/{*route}", any(api))
        .with_state(state)
}

/// Answers 404 when the API is off and 401 without the key, before the
/// body is read; then the route.
async fn api(State(state): State<ApiState>, request: Request) -> Response {
    let authorization = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    if let Err(refused) = admin::guards(state.key.as_deref(), authorization) {
        return reply(refused);
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, admin::BODY_LIMIT).await else {
        let message = "the body is over 64 KiB or was cut short";
        return (StatusCode::PAYLOAD_TOO_LARGE, message).into_response();
    };
    let (method, uri) = (parts.method.as_str(), &parts.uri);
    reply(admin::answer(&state, method, uri.path(), uri.query(), &body).await)
}

fn reply(answer: admin::Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(answer.body)).into_response()
}

impl admin::Backend for ApiState {
    fn hub(&self) -> &Hub {
        &self.hub
    }

    /// The stream store's members, so every node's.
    async fn presence(&self, topic: &str) -> Result<Vec<admin::Member>, xws::Error> {
        let members = self.xws.presence(topic).await?;
        Ok(members
            .iter()
            .map(|member| admin::Member {
                id: member.id.clone(),
                user: crate::history::member_user(&member.info),
            })
            .collect())
    }

    /// This node's topics.
    async fn topics(&self) -> Result<Vec<(String, usize)>, xws::Error> {
        Ok(self
            .xws
            .topics()
            .into_iter()
            .map(|count| (count.topic.to_string(), count.subscribers))
            .collect())
    }

    /// The user's peers on this node.
    async fn peers_of(&self, user: &str) -> Result<Vec<PeerId>, xws::Error> {
        Ok(self.xws.handler().peers_of(user))
    }

    async fn disconnect(&self, peers: Vec<PeerId>, frame: CloseFrame) -> Result<usize, xws::Error> {
        Ok(peers
            .iter()
            .filter(|peer| self.xws.disconnect(peer, frame.clone()))
            .count())
    }
}
