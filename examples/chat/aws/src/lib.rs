//! The xws chat on AWS Lambda.
//!
//! Two functions built from this crate (`cargo lambda build --profile lambda`):
//!
//! - `chat-ws` (`src/bin/chat-ws.rs`): the WebSocket API's function, the portable
//!   [`chat::ChatHandler`] unchanged behind [`xws_aws::Xws`].
//! - `chat-http` (`src/bin/chat-http.rs`): the HTTP API's function,
//!   `POST /api/broadcast` publishing through an [`xws::Hub`] ([`route`]).
//! - `chat-tick` (`src/bin/chat-tick.rs`): a scheduled EventBridge function
//!   broadcasting the time through the same hub ([`tick`]).
//!
//! `template.yaml` deploys both; `cargo xtask dev aws --port P` runs them
//! locally behind the `xws-aws-local` emulator.

use lambda_http::{Body, Request, RequestExt, Response, http::StatusCode};
use serde_json::json;
use std::sync::Arc;
use xws::{CloseFrame, Hub, PeerId, RequestInfo};
use xws_aws::Aws;
use xws_aws::function::{
    error_response, json_response, page_response, sse_not_available, static_response,
};

use chat::{ChatHandler, admin, protocol::BroadcastRequest};

/// The chat's web page, the same as the Tokio build serves.
const PAGE: &str = include_str!("../../static/index.html");

/// The browser client the page loads.
const CLIENT_JS: &str = xws::client::JS;

pub use xws_aws::function::init_tracing;

/// The HTTP function's routes:
///
/// - `/api/server/…` (and `POST /api/publish`): the server API, with
///   `CHAT_API_KEY` (see [`chat::admin`]).
/// - `GET /`: the chat's page, and `GET /xws.js` its client.
/// - `POST /api/broadcast?token= {"event","data"}` → `{"success":true,"delivered":N}`;
///   a body that is not JSON or lacks `event` is 400, a wrong token 401.
/// - `GET /api/sse?topic=room:R`: 400 without a topic, 401 without a valid
///   token (as the WebSocket), 403 for a topic that is not a room's or that
///   the token's `topics` claim does not allow, otherwise 501 ([`sse_not_available`]): SSE needs Lambda
///   response streaming, which API Gateway does not give (see the capability
///   matrix).
pub async fn route(http: &Http, request: Request) -> Response<Body> {
    let (hub, handler) = (&http.hub, &http.handler);
    let path = request.uri().path().to_owned();
    if admin::is_api_path(&path) {
        return server_api(http, &request).await;
    }
    match (request.method().as_str(), path.as_str()) {
        ("GET", "/") => page_response(PAGE),
        ("GET", "/xws.js") => static_response("text/javascript; charset=utf-8", CLIENT_JS),
        ("POST", "/api/broadcast") => {
            let params = request.query_string_parameters();
            if !handler.accepts(params.first("token")).await {
                return error_response(StatusCode::UNAUTHORIZED, "missing or wrong token");
            }
            let body: &[u8] = request.body();
            let broadcast: BroadcastRequest = match serde_json::from_slice(body) {
                Ok(broadcast) => broadcast,
                Err(e) => {
                    let error = format!("expected {{\"event\",\"data\"}}: {e}");
                    return error_response(StatusCode::BAD_REQUEST, &error);
                }
            };
            match chat::broadcast(hub, broadcast).await {
                Ok(reply) => json_response(StatusCode::OK, &json!(reply)),
                Err(e) => {
                    tracing::error!(error = %e, "broadcast failed");
                    let body = json!({ "success": false, "error": e.to_string() });
                    json_response(StatusCode::INTERNAL_SERVER_ERROR, &body)
                }
            }
        }
        ("GET", "/api/sse") => {
            let params = request.query_string_parameters();
            let Some(topic) = params.first("topic").filter(|t| !t.is_empty()) else {
                return error_response(StatusCode::BAD_REQUEST, "missing ?topic=");
            };
            // Refused as the adapters refuse a stream (401, 403) before
            // saying that this target has none.
            let info = RequestInfo::new(&path, request.uri().query());
            match handler.authorize_stream(&info, topic).await {
                Err(reject) => error_response(reject.status, &reject.body),
                Ok(()) => sse_not_available("/api/ws"),
            }
        }
        _ => error_response(StatusCode::NOT_FOUND, "not found"),
    }
}

/// What the HTTP function's routes share.
pub struct Http {
    /// The hub of the WebSocket API's connections.
    pub hub: Hub,
    /// The chat, configured as the WebSocket function is.
    pub handler: ChatHandler,
    /// The AWS clients, for the server API.
    pub aws: Arc<Aws>,
    /// `CHAT_API_KEY`: the server API's key; unset turns it off.
    pub api_key: Option<String>,
}

impl Http {
    /// From the function's environment (with `CHAT_JWKS_URL`, the key
    /// set is fetched here).
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let aws = Arc::new(aws().await?);
        Ok(Self {
            hub: aws.hub()?,
            handler: ChatHandler::from_env_with_jwks().await?,
            aws,
            api_key: std::env::var("CHAT_API_KEY").ok(),
        })
    }
}

/// The AWS backend every function of the chat shares: the environment's
/// settings, and rooms keeping history and presence in the table
/// (`CHAT_HISTORY_SIZE` messages for `CHAT_HISTORY_TTL_SECS`, by default
/// 100 for 5 minutes).
pub async fn aws() -> Result<Aws, xws_aws::AwsError> {
    let retention = chat::history::retention_from_env().map_err(|value| {
        xws_aws::AwsError::InvalidVariable {
            name: "CHAT_HISTORY_SIZE or CHAT_HISTORY_TTL_SECS",
            value,
        }
    })?;
    let config = xws_aws::Config::from_env()?.with_streams(chat::history::stream_config(retention));
    Aws::from_config(config).await
}

/// The server API (`/api/server/…`, see [`chat::admin`]): the key is
/// checked before the body is looked at. API Gateway has read the body
/// already (its payload limit, 10 MB, applies first); over 64 KiB is 413
/// as on the other targets.
async fn server_api(http: &Http, request: &Request) -> Response<Body> {
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok());
    let answer = match admin::guards(http.api_key.as_deref(), authorization) {
        Err(refused) => refused,
        Ok(()) if request.body().len() > admin::BODY_LIMIT => {
            return error_response(StatusCode::PAYLOAD_TOO_LARGE, "the body is over 64 KiB");
        }
        Ok(()) => {
            let uri = request.uri();
            let method = request.method().as_str();
            admin::answer(http, method, uri.path(), uri.query(), request.body()).await
        }
    };
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(status, &answer.body)
}

fn aws_error(error: xws_aws::AwsError) -> xws::Error {
    xws::Error::transport(error)
}

impl admin::Backend for Http {
    fn hub(&self) -> &Hub {
        &self.hub
    }

    async fn presence(&self, topic: &str) -> Result<Vec<admin::Member>, xws::Error> {
        let peers = self.aws.peers(Some(topic)).await.map_err(aws_error)?;
        Ok(peers
            .into_iter()
            .map(|(id, context)| admin::Member {
                id: PeerId::from(id),
                user: admin::user_of(&context),
            })
            .collect())
    }

    async fn topics(&self) -> Result<Vec<(String, usize)>, xws::Error> {
        self.aws.topics().await.map_err(aws_error)
    }

    async fn peers_of(&self, user: &str) -> Result<Vec<PeerId>, xws::Error> {
        let peers = self.aws.peers(None).await.map_err(aws_error)?;
        Ok(peers
            .into_iter()
            .filter(|(_, context)| admin::user_of(context).as_deref() == Some(user))
            .map(|(id, _)| PeerId::from(id))
            .collect())
    }

    async fn disconnect(&self, peers: Vec<PeerId>, frame: CloseFrame) -> Result<usize, xws::Error> {
        let ids: Vec<String> = peers.iter().map(ToString::to_string).collect();
        self.aws.disconnect(&ids, &frame).await.map_err(aws_error)
    }
}

/// The scheduled function: broadcasts `{"event":"tick","data":{"time"}}`
/// (the EventBridge event's `time`) to every peer.
pub async fn tick(hub: &Hub, event: &serde_json::Value) -> Result<serde_json::Value, xws::Error> {
    let request = BroadcastRequest {
        event: json!("tick"),
        data: json!({ "time": event.get("time").cloned().unwrap_or_default() }),
    };
    let reply = chat::broadcast(hub, request).await?;
    Ok(json!(reply))
}
