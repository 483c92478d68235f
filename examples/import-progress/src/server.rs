//! Import progress on Tokio: the handler at `/api/ws`, `POST
//! /api/start-import`, the page at `/`; each import runs in a tokio task.

use axum::{
    Json, Router,
    body::Body,
    extract::{Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    routing::{get, post},
};
use std::{future::Future, sync::Arc, time::Duration};
use tokio::{net::TcpListener, sync::Semaphore};
use xws::Hub;
use xws_tokio::Xws;

use crate::{BODY_LIMIT, Import, ImportHandler, StartError, StartImport, publish};

const PAGE: &str = include_str!("../static/index.html");

/// Imports running at once on one server; more answer 503, so requests
/// cannot pile up tasks without bound.
pub const MAX_RUNNING_IMPORTS: usize = 64;

/// What the routes share.
#[derive(Clone)]
struct Jobs {
    hub: Hub,
    step_delay: Duration,
    /// One permit per running import.
    running: Arc<Semaphore>,
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    user: Option<String>,
}

/// The routes around `xws`; imports pause `step_delay` between batches.
pub fn app(xws: &Xws<ImportHandler>, step_delay: Duration) -> Router {
    let jobs = Jobs {
        hub: xws.hub(),
        step_delay,
        running: Arc::new(Semaphore::new(MAX_RUNNING_IMPORTS)),
    };
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route_service("/xws.js", xws_tokio::client_js())
        .route_service("/api/ws", xws.ws())
        .route("/api/login", post(login))
        .route("/api/start-import", post(start_import))
        .with_state(jobs)
}

/// `POST /api/login?user=U` → `{"user","token"}`: the demo login.
async fn login(Query(query): Query<LoginQuery>) -> Response {
    let (status, body) = per_user::login_route(query.user.as_deref());
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(body)).into_response()
}

/// `POST /api/start-import?token=T [{"total":N}]` → 202 `{"user","total"}`;
/// 503 while [`MAX_RUNNING_IMPORTS`] run.
/// The token is checked before the body is read (401 whatever the body); a
/// body over [`BODY_LIMIT`] answers 413.
async fn start_import(
    State(jobs): State<Jobs>,
    Query(query): Query<TokenQuery>,
    body: Body,
) -> Response {
    let started = match per_user::user_from_token(query.token.as_deref()) {
        Ok(user) => match axum::body::to_bytes(body, BODY_LIMIT).await {
            Ok(body) => StartImport::for_user(user, &body),
            Err(_) => Err(StartError::TooLarge),
        },
        Err(error) => Err(error.into()),
    };
    match started {
        Ok(import) => {
            let Ok(permit) = Arc::clone(&jobs.running).try_acquire_owned() else {
                tracing::warn!(
                    limit = MAX_RUNNING_IMPORTS,
                    "refusing an import: too many running"
                );
                let body =
                    serde_json::json!({ "error": "too many imports running, try again later" });
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("retry-after", "5")],
                    Json(body),
                )
                    .into_response();
            };
            let accepted = import.accepted_json();
            tokio::spawn(async move {
                run(jobs.hub, import, jobs.step_delay).await;
                drop(permit);
            });
            (StatusCode::ACCEPTED, Json(accepted)).into_response()
        }
        Err(error) => {
            let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, Json(error.json())).into_response()
        }
    }
}

/// Runs `import` to the end, publishing after every batch.
pub async fn run(hub: Hub, mut import: Import, step_delay: Duration) {
    tracing::info!(user = %import.user, total = import.total, "import started");
    loop {
        tokio::time::sleep(step_delay).await;
        let event = import.step();
        if let Err(error) = publish(&hub, &import, &event).await {
            tracing::warn!(%error, user = %import.user, "publishing progress failed");
        }
        if matches!(event, crate::ImportEvent::ImportComplete { .. }) {
            break;
        }
    }
    tracing::info!(user = %import.user, checksum = import.checksum, "import complete");
}

/// Serves on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    step_delay: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let xws = Xws::new(ImportHandler);
    xws_tokio::serve_app(listener, xws.clone(), app(&xws, step_delay), shutdown).await
}
