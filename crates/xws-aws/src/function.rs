//! Helpers for the functions around the WebSocket one (an HTTP API route,
//! a scheduled rule): logging and the answers every example gives.
//! Feature `http`.

use lambda_http::{Body, Response, http::StatusCode};
use serde_json::{Value, json};

/// Logs to CloudWatch (stdout) at `RUST_LOG` or `info`, without the time
/// (CloudWatch adds its own).
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .without_time()
        .init();
}

/// A response with `content_type` and `body`.
pub fn response(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

/// `value` as a JSON response.
pub fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    response(status, "application/json", value.to_string())
}

/// A static page or script (`GET /`, `GET /xws.js`).
pub fn static_response(content_type: &str, body: &'static str) -> Response<Body> {
    response(StatusCode::OK, content_type, body)
}

/// `{"error": message}` with `status`.
pub fn error_response(status: StatusCode, message: &str) -> Response<Body> {
    json_response(status, &json!({ "error": message }))
}

/// 501 for `GET /api/sse`: an API Gateway HTTP API buffers whole responses,
/// so an event stream needs Lambda response streaming (a function URL),
/// which these builds do not use. Names the WebSocket path to use instead.
pub fn sse_not_available(ws_path: &str) -> Response<Body> {
    let message = format!(
        "SSE is not available on AWS API Gateway (it buffers whole responses); \
         use the WebSocket at {ws_path}"
    );
    error_response(StatusCode::NOT_IMPLEMENTED, &message)
}
