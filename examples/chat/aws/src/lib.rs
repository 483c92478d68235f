//! The xws chat on AWS Lambda.
//!
//! Two functions built from this crate (`cargo lambda build --release`):
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
use xws::Hub;
use xws_aws::function::{
    error_response, json_response, page_response, sse_not_available, static_response,
};

use chat::{
    ChatHandler,
    protocol::{BroadcastRequest, RoomId},
};

/// The chat's web page, the same as the Tokio build serves.
const PAGE: &str = include_str!("../../static/index.html");

/// The browser client the page loads.
const CLIENT_JS: &str = xws::client::JS;

pub use xws_aws::function::init_tracing;

/// The HTTP function's routes:
///
/// - `GET /`: the chat's page, and `GET /xws.js` its client.
/// - `POST /api/broadcast?token= {"event","data"}` → `{"success":true,"delivered":N}`;
///   a body that is not JSON or lacks `event` is 400, a wrong token 401.
/// - `GET /api/sse?topic=room:R`: 400 without a topic, 403 for a topic that
///   is not a room's, otherwise 501 ([`sse_not_available`]): SSE needs Lambda
///   response streaming, which API Gateway does not give (see the capability
///   matrix).
pub async fn route(hub: &Hub, handler: &ChatHandler, request: Request) -> Response<Body> {
    let path = request.uri().path().to_owned();
    match (request.method().as_str(), path.as_str()) {
        ("GET", "/") => page_response(PAGE),
        ("GET", "/xws.js") => static_response("text/javascript; charset=utf-8", CLIENT_JS),
        ("POST", "/api/broadcast") => {
            let params = request.query_string_parameters();
            if !handler.accepts(params.first("token")) {
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
            match params.first("topic").filter(|t| !t.is_empty()) {
                None => error_response(StatusCode::BAD_REQUEST, "missing ?topic="),
                Some(topic) if !topic.starts_with(RoomId::TOPIC_PREFIX) => {
                    error_response(StatusCode::FORBIDDEN, "only room topics can be streamed")
                }
                Some(_) => sse_not_available("/api/ws"),
            }
        }
        _ => error_response(StatusCode::NOT_FOUND, "not found"),
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
