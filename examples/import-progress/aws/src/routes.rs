//! The HTTP function's routes.

use import_progress::StartImport;
use lambda_http::{Body, Request, RequestExt, Response, http::StatusCode};
use xws_aws::function::{
    error_response, json_response, page_response, sse_not_available, static_response,
};

use crate::Worker;

/// The page, the same as the Tokio build serves.
const PAGE: &str = include_str!("../../static/index.html");

/// The page on the function URL's stream: `/stream?stream=SSE_URL` (the
/// template's output `SseUrl`), the same page the Vercel build serves.
const STREAM_PAGE: &str = include_str!("../../static/stream.html");

/// The browser client the page loads.
const CLIENT_JS: &str = xws::client::JS;

/// The HTTP function's routes.
#[derive(Clone, Debug)]
pub struct Routes {
    worker: Worker,
}

impl Routes {
    /// Routes starting imports on `worker`.
    pub fn new(worker: Worker) -> Self {
        Self { worker }
    }

    /// - `GET /`: the page, `GET /xws.js` its client;
    /// - `GET /stream`: the page on the function URL's stream (`?stream=`);
    /// - `POST /api/login?user=U` → `{"user","token"}` (the demo login);
    /// - `POST /api/start-import?token=T [{"total":N}]` → 202 `{"user","total"}`
    ///   once the worker is invoked; 400 `{"error"}` for a bad request;
    /// - `GET /api/sse`: 501 naming the WebSocket;
    /// - anything else 404.
    pub async fn route(&self, request: Request) -> Response<Body> {
        match (request.method().as_str(), request.uri().path()) {
            ("GET", "/") => page_response(PAGE),
            ("GET", "/xws.js") => static_response("text/javascript; charset=utf-8", CLIENT_JS),
            ("GET", "/stream") => static_response("text/html; charset=utf-8", STREAM_PAGE),
            ("POST", "/api/start-import") => self.start_import(&request).await,
            ("POST", "/api/login") => {
                let params = request.query_string_parameters();
                let (status, body) = import_progress::login_route(params.first("user"));
                json_response(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                    &body,
                )
            }
            ("GET", "/api/sse") => sse_not_available("/api/ws"),
            _ => error_response(StatusCode::NOT_FOUND, "not found"),
        }
    }

    async fn start_import(&self, request: &Request) -> Response<Body> {
        let params = request.query_string_parameters();
        let import = match StartImport::parse(params.first("token"), request.body()) {
            Ok(import) => import,
            Err(error) => {
                let status =
                    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
                return json_response(status, &error.json());
            }
        };
        match self.worker.start(&import).await {
            Ok(()) => json_response(StatusCode::ACCEPTED, &import.accepted_json()),
            Err(error) => {
                tracing::error!(%error, "invoking the worker failed");
                error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "could not start the import",
                )
            }
        }
    }
}
