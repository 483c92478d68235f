//! The HTTP function's routes, the same as the Tokio server's.

use lambda_http::{Body, Request, RequestExt, Response, http::StatusCode};
use notifications::{LIST_LIMIT, NewNotification, NotificationStore, mark_read, send_notification};
use serde_json::json;
use xws::Hub;
use xws_aws::function::{
    error_response, json_response, page_response, sse_not_available, static_response,
};

use crate::DynamoStore;

/// The page, the same as the Tokio build serves.
const PAGE: &str = include_str!("../../static/index.html");

/// The browser client the page loads.
const CLIENT_JS: &str = xws::client::JS;

/// The HTTP function's routes.
#[derive(Clone, Debug)]
pub struct Routes {
    hub: Hub,
    store: DynamoStore,
}

fn failed(error: &xws::BoxError) -> Response<Body> {
    tracing::error!(%error, "notification route failed");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string())
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Routes {
    /// Routes publishing through `hub`, storing in `store`.
    pub fn new(hub: Hub, store: DynamoStore) -> Self {
        Self { hub, store }
    }

    /// - `GET /`: the page, `GET /xws.js` its client;
    /// - `POST /api/notify?token=T {"title","body"}` → 201 `{"notification","delivered"}`;
    /// - `GET /api/notifications?token=T` → `{"notifications":[…]}`, newest first;
    /// - `POST /api/mark-read?token=T&id=ID` → 200, or 404 for an unknown id;
    /// - `GET /api/sse`: 501 naming the WebSocket; anything else 404.
    pub async fn route(&self, request: Request) -> Response<Body> {
        let params = request.query_string_parameters();
        let token = params.first("token");
        match (request.method().as_str(), request.uri().path()) {
            ("GET", "/") => page_response(PAGE),
            ("GET", "/xws.js") => static_response("text/javascript; charset=utf-8", CLIENT_JS),
            ("POST", "/api/login") => {
                let (status, body) = per_user::login_route(params.first("user"));
                json_response(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                    &body,
                )
            }
            ("POST", "/api/notify") => self.notify(&request, token).await,
            ("GET", "/api/notifications") => self.list(token).await,
            ("POST", "/api/mark-read") => self.mark_read(token, params.first("id")).await,
            ("GET", "/api/sse") => sse_not_available("/api/ws"),
            _ => error_response(StatusCode::NOT_FOUND, "not found"),
        }
    }

    async fn notify(&self, request: &Request, token: Option<&str>) -> Response<Body> {
        let (user, new) = match NewNotification::parse(token, request.body()) {
            Ok(parsed) => parsed,
            Err(invalid) => {
                let status =
                    StatusCode::from_u16(invalid.status()).unwrap_or(StatusCode::BAD_REQUEST);
                return json_response(status, &invalid.json());
            }
        };
        // Ordered by time, unique: Lambda's request id.
        let request_id = request
            .lambda_context_ref()
            .map(|c| c.request_id.clone())
            .unwrap_or_default();
        let id = format!("n{:013}-{request_id}", now_ms());
        match send_notification(&self.hub, &self.store, &user, new, id, now_ms()).await {
            Ok(sent) => json_response(StatusCode::CREATED, &json!(sent)),
            Err(error) => failed(&error),
        }
    }

    async fn list(&self, token: Option<&str>) -> Response<Body> {
        let user = match user_of(token) {
            Ok(user) => user,
            Err(refused) => return refused,
        };
        match self.store.list(&user, LIST_LIMIT).await {
            Ok(list) => json_response(StatusCode::OK, &json!({ "notifications": list })),
            Err(error) => failed(&error),
        }
    }

    async fn mark_read(&self, token: Option<&str>, id: Option<&str>) -> Response<Body> {
        let user = match user_of(token) {
            Ok(user) => user,
            Err(refused) => return refused,
        };
        let Some(id) = id.filter(|id| !id.is_empty()) else {
            return error_response(StatusCode::BAD_REQUEST, "missing ?id=");
        };
        match mark_read(&self.hub, &self.store, &user, id).await {
            Ok(true) => json_response(StatusCode::OK, &json!({ "id": id, "read": true })),
            Ok(false) => error_response(StatusCode::NOT_FOUND, &format!("no notification {id:?}")),
            Err(error) => failed(&error),
        }
    }
}

/// The user of `?token=`, or the 401 that says what is wrong with it.
fn user_of(token: Option<&str>) -> Result<String, Response<Body>> {
    per_user::user_from_token(token).map_err(|error| {
        let status =
            StatusCode::from_u16(error.status().as_u16()).unwrap_or(StatusCode::UNAUTHORIZED);
        error_response(status, &error.to_string())
    })
}
