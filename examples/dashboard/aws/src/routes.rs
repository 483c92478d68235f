//! The HTTP function's routes.

use lambda_http::{Body, Request, Response, http::StatusCode};
use xws_aws::function::{error_response, page_response, sse_not_available, static_response};

/// The dashboard's page, the same as the Tokio build serves.
const PAGE: &str = include_str!("../../static/index.html");

/// The page on the SSE function URL, the same as the plain Worker serves:
/// `/stream?stream=SSE_URL` (the template's output `SseUrl`).
const STREAM_PAGE: &str = include_str!("../../static/stream.html");

/// The browser client the page loads.
const CLIENT_JS: &str = xws::client::JS;

/// - `GET /`: the page, `GET /xws.js` its client;
/// - `GET /stream`: the page on the function URL's stream (`?stream=`);
/// - `GET /api/sse`: 501 naming the WebSocket ([`sse_not_available`]);
/// - anything else 404.
pub fn route(request: &Request) -> Response<Body> {
    match (request.method().as_str(), request.uri().path()) {
        ("GET", "/") => page_response(PAGE),
        ("GET", "/stream") => static_response("text/html; charset=utf-8", STREAM_PAGE),
        ("GET", "/xws.js") => static_response("text/javascript; charset=utf-8", CLIENT_JS),
        ("GET", "/api/sse") => sse_not_available("/api/ws"),
        _ => error_response(StatusCode::NOT_FOUND, "not found"),
    }
}
