//! The server API on targets without axum (Cloudflare, AWS): the same
//! routes, key and answers as the Tokio chat's (`server_api.rs`, see the
//! README), over a [`Backend`] each target implements with what its
//! adapter offers.
//!
//! A target's route calls [`guards`] for every path (before it reads the
//! body: 404 when the API is off, 401 without the key), then [`answer`]
//! with the body it read (at most [`BODY_LIMIT`] bytes, else 413).

use serde::Deserialize;
use serde_json::{Value, json};
use xws::{CloseCode, CloseFrame, Error, Hub, PeerId};

/// The largest request body the server API reads.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A member of a topic, as presence lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The peer.
    pub id: PeerId,
    /// Its user, if it has one.
    pub user: Option<String>,
}

/// What a target offers the server API beyond its [`Hub`].
#[allow(
    async_fn_in_trait,
    reason = "awaited in place; wasm32 futures are not Send"
)]
pub trait Backend {
    /// The hub that publishes and broadcasts.
    fn hub(&self) -> &Hub;
    /// The members of `topic`.
    async fn presence(&self, topic: &str) -> Result<Vec<Member>, Error>;
    /// Every topic with its number of subscribers.
    async fn topics(&self) -> Result<Vec<(String, usize)>, Error>;
    /// The peers of `user`.
    async fn peers_of(&self, user: &str) -> Result<Vec<PeerId>, Error>;
    /// Closes `peers` with `frame`; returns how many were connected.
    async fn disconnect(&self, peers: Vec<PeerId>, frame: CloseFrame) -> Result<usize, Error>;
}

/// A status and a JSON body (an error's body is `{"error": …}`).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Answer {
    fn ok(body: Value) -> Self {
        Self { status: 200, body }
    }

    fn error(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "error": message.into() }),
        }
    }
}

/// Whether `path` is a server API route.
pub fn is_api_path(path: &str) -> bool {
    path == "/api/publish" || path.starts_with("/api/server/")
}

/// The checks before anything of the request is read: 404 when the API is
/// off (`key` unset), 401 unless `authorization` is `Bearer <key>`.
pub fn guards(key: Option<&str>, authorization: Option<&str>) -> Result<(), Answer> {
    let Some(expected) = key.filter(|key| !key.is_empty()) else {
        return Err(Answer::error(404, "the server API is off (CHAT_API_KEY)"));
    };
    let given = authorization.and_then(|value| value.strip_prefix("Bearer "));
    if !given.is_some_and(|given| constant_time_eq(given.as_bytes(), expected.as_bytes())) {
        return Err(Answer::error(401, "missing or wrong API key"));
    }
    Ok(())
}

/// Compares without stopping at the first difference, so the time an
/// answer takes says nothing about how much of the key was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8], expected: &str) -> Result<T, Answer> {
    serde_json::from_slice(body)
        .map_err(|error| Answer::error(400, format!("expected {expected}: {error}")))
}

/// 400 for what the caller got wrong, 501 for what the target cannot do,
/// 500 (logged) for the rest.
fn failed(error: Error, what: &str) -> Answer {
    match error {
        Error::InvalidTopic { .. } => Answer::error(400, error.to_string()),
        Error::Unsupported { .. } => Answer::error(501, error.to_string()),
        error => {
            tracing::error!(%error, "server API {what} failed");
            Answer::error(500, error.to_string())
        }
    }
}

#[derive(Deserialize)]
struct PublishBody {
    topic: String,
    data: Value,
}

#[derive(Deserialize)]
struct BroadcastBody {
    data: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisconnectBody {
    peer: Option<String>,
    user: Option<String>,
    code: Option<u16>,
    reason: Option<String>,
}

/// Answers the server API request `method path?query` with `body`, after
/// [`guards`] passed.
pub async fn answer(
    backend: &impl Backend,
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Answer {
    match (method, path) {
        ("POST", "/api/publish" | "/api/server/publish") => {
            let request: PublishBody = match parse(body, "{\"topic\":…,\"data\":…}") {
                Ok(request) => request,
                Err(answer) => return answer,
            };
            match backend
                .hub()
                .publish_json(&request.topic, &request.data)
                .await
            {
                Ok(delivery) => Answer::ok(json!({ "delivered": delivery.delivered })),
                Err(error) => failed(error, "publish"),
            }
        }
        ("POST", "/api/server/broadcast") => {
            let request: BroadcastBody = match parse(body, "{\"data\":…}") {
                Ok(request) => request,
                Err(answer) => return answer,
            };
            match backend.hub().broadcast_json(&request.data).await {
                Ok(delivery) => Answer::ok(json!({ "delivered": delivery.delivered })),
                Err(error) => failed(error, "broadcast"),
            }
        }
        ("GET", "/api/server/presence") => {
            let topic = query.and_then(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .find(|(name, _)| name == "topic")
                    .map(|(_, value)| value.into_owned())
            });
            let Some(topic) = topic.filter(|topic| !topic.is_empty()) else {
                return Answer::error(400, "missing ?topic=");
            };
            if let Err(error) = xws::Topic::new(topic.as_str()) {
                return Answer::error(400, error.to_string());
            }
            match backend.presence(&topic).await {
                Ok(members) => {
                    let members: Vec<Value> = members
                        .iter()
                        .map(|m| json!({ "id": m.id.to_string(), "user": m.user }))
                        .collect();
                    Answer::ok(json!({ "members": members }))
                }
                Err(error) => failed(error, "presence"),
            }
        }
        ("POST", "/api/server/disconnect") => disconnect(backend, body).await,
        ("GET", "/api/server/topics") => match backend.topics().await {
            Ok(topics) => {
                let topics: Vec<Value> = topics
                    .into_iter()
                    .map(|(topic, subscribers)| json!({ "topic": topic, "subscribers": subscribers }))
                    .collect();
                Answer::ok(json!({ "topics": topics }))
            }
            Err(error) => failed(error, "topics"),
        },
        _ => Answer::error(404, "no such server API route"),
    }
}

/// `POST /api/server/disconnect {"peer"} | {"user"}` (default code 1008).
async fn disconnect(backend: &impl Backend, body: &[u8]) -> Answer {
    let request: DisconnectBody = match parse(body, "{\"peer\":…} or {\"user\":…}") {
        Ok(request) => request,
        Err(answer) => return answer,
    };
    let code = request.code.unwrap_or(CloseCode::POLICY_VIOLATION.as_u16());
    // Only codes an application may send (RFC 6455 7.4).
    if !matches!(code, 1000 | 1001 | 1008..=1014 | 3000..=4999) {
        return Answer::error(400, format!("code {code} is not one a server may send"));
    }
    let reason = request
        .reason
        .unwrap_or_else(|| "disconnected by the server".into());
    let frame = CloseFrame::new(CloseCode::from(code), reason);
    let peers = match (request.peer, request.user) {
        (Some(peer), None) => vec![PeerId::from(peer)],
        (None, Some(user)) => match backend.peers_of(&user).await {
            Ok(peers) => peers,
            Err(error) => return failed(error, "disconnect"),
        },
        _ => return Answer::error(400, "give exactly one of \"peer\" and \"user\""),
    };
    match backend.disconnect(peers, frame).await {
        Ok(disconnected) => Answer::ok(json!({ "disconnected": disconnected })),
        Err(error) => failed(error, "disconnect"),
    }
}

/// The user a peer's context (as JSON) names: the chat's `user`.
pub fn user_of(context: &Value) -> Option<String> {
    context["user"].as_str().map(str::to_owned)
}
