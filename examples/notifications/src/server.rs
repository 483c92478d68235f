//! Notifications on Tokio: the handler at `/api/ws`, the HTTP routes, the
//! page at `/`, over a [`SqlStore`](crate::store::SqlStore) (or any store).

use axum::{
    Json, Router,
    body::Body,
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use serde_json::json;
use std::{
    future::Future,
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};
use tokio::net::TcpListener;
use xws::Hub;
use xws_tokio::Xws;

use crate::{
    BODY_LIMIT, InvalidNotification, LIST_LIMIT, NewNotification, NotificationStore,
    NotificationsHandler,
};

const PAGE: &str = include_str!("../static/index.html");

/// What the routes share.
struct Routes<S> {
    hub: Hub,
    store: S,
}

impl<S: Clone> Clone for Routes<S> {
    fn clone(&self) -> Self {
        Self {
            hub: self.hub.clone(),
            store: self.store.clone(),
        }
    }
}

#[derive(serde::Deserialize)]
struct Params {
    token: Option<String>,
    user: Option<String>,
    id: Option<String>,
}

impl Params {
    /// The user of `?token=`, or the 401 that says what is wrong with it.
    fn user(&self) -> Result<String, Response> {
        per_user::user_from_token(self.token.as_deref()).map_err(|e| {
            let status =
                StatusCode::from_u16(e.status().as_u16()).unwrap_or(StatusCode::UNAUTHORIZED);
            error(status, e)
        })
    }
}

/// The routes around `xws`:
///
/// - `POST /api/login?user=U` → `{"user","token"}` (the demo login)
/// - `POST /api/notify?token=T {"title","body"}` → 201 `{"notification","delivered"}`
/// - `GET /api/notifications?token=T` → `{"notifications":[…]}`, newest first
/// - `POST /api/mark-read?token=T&id=ID` → 200, or 404 for an unknown id
pub fn app<S: NotificationStore + Clone>(xws: &Xws<NotificationsHandler<S>>) -> Router {
    let routes = Routes {
        hub: xws.hub(),
        store: xws.handler().store().clone(),
    };
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route_service("/xws.js", xws_tokio::client_js())
        .route_service("/api/ws", xws.ws())
        .route("/api/login", post(login))
        .route("/api/notify", post(notify::<S>))
        .route("/api/notifications", get(list::<S>))
        .route("/api/mark-read", post(mark_read::<S>))
        .with_state(routes)
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

fn failed(cause: xws::BoxError) -> Response {
    tracing::error!(error = %cause, "notification route failed");
    error(StatusCode::INTERNAL_SERVER_ERROR, cause)
}

/// `POST /api/login?token=T` → `{"user","token"}`: the demo login.
async fn login(Query(params): Query<Params>) -> Response {
    let (status, body) = per_user::login_route(params.user.as_deref());
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(body)).into_response()
}

/// The token is checked before the body is read (401 whatever the body);
/// a body over [`BODY_LIMIT`] answers 413.
async fn notify<S: NotificationStore + Clone>(
    State(routes): State<Routes<S>>,
    Query(params): Query<Params>,
    body: Body,
) -> Response {
    let refused = |invalid: InvalidNotification| {
        let status = StatusCode::from_u16(invalid.status()).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(invalid.json())).into_response()
    };
    let user = match per_user::user_from_token(params.token.as_deref()) {
        Ok(user) => user,
        Err(error) => return refused(error.into()),
    };
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return refused(InvalidNotification::TooLarge);
    };
    let new = match NewNotification::from_body(&body) {
        Ok(new) => new,
        Err(invalid) => return refused(invalid),
    };
    let sent =
        crate::send_notification(&routes.hub, &routes.store, &user, new, new_id(), now_ms()).await;
    match sent {
        Ok(sent) => (StatusCode::CREATED, Json(sent)).into_response(),
        Err(e) => failed(e),
    }
}

async fn list<S: NotificationStore + Clone>(
    State(routes): State<Routes<S>>,
    Query(params): Query<Params>,
) -> Response {
    let user = match params.user() {
        Ok(user) => user,
        Err(refused) => return refused,
    };
    match routes.store.list(&user, LIST_LIMIT).await {
        Ok(notifications) => Json(json!({ "notifications": notifications })).into_response(),
        Err(e) => failed(e),
    }
}

async fn mark_read<S: NotificationStore + Clone>(
    State(routes): State<Routes<S>>,
    Query(params): Query<Params>,
) -> Response {
    let user = match params.user() {
        Ok(user) => user,
        Err(refused) => return refused,
    };
    let Some(id) = params.id.as_deref().filter(|id| !id.is_empty()) else {
        return error(StatusCode::BAD_REQUEST, "missing ?id=");
    };
    match crate::mark_read(&routes.hub, &routes.store, &user, id).await {
        Ok(true) => Json(json!({ "id": id, "read": true })).into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, format!("no notification {id:?}")),
        Err(e) => failed(e),
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Ordered by time; unique across restarts and across servers sharing
/// one database (the process id tells them apart).
fn new_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let next = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("n{:013}-{:x}-{next}", now_ms(), std::process::id())
}

/// Serves on `listener` over `store` until `shutdown` resolves.
pub async fn serve<S: NotificationStore + Clone>(
    listener: TcpListener,
    store: S,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let xws = Xws::new(NotificationsHandler::new(store));
    xws_tokio::serve_app(listener, xws.clone(), app(&xws), shutdown).await
}
