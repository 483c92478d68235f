//! The dashboard on Tokio: the handler at `/api/ws`, SSE at `/api/sse`, the
//! page at `/`, and the scheduled job on a tokio interval.

use axum::{Router, response::Html, routing::get};
use std::{future::Future, time::Duration};
use tokio::net::TcpListener;
use xws_tokio::Xws;

use crate::{DashboardHandler, Latest, Metrics, publish};

const PAGE: &str = include_str!("../static/index.html");

/// The routes around `xws`.
pub fn app(xws: &Xws<DashboardHandler>) -> Router {
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route_service("/xws.js", xws_tokio::client_js())
        .route_service("/api/ws", xws.ws())
        .route_service("/api/sse", xws.sse())
}

/// Publishes fresh metrics every `interval` until the server shuts down.
pub fn spawn_job(xws: &Xws<DashboardHandler>, latest: Latest, interval: Duration) {
    let hub = xws.hub();
    let xws = xws.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        let mut sample = 0;
        loop {
            ticks.tick().await;
            sample += 1;
            let metrics = Metrics::sample(sample, load_average(), xws.connections());
            if let Err(error) = publish(&hub, &latest, metrics).await {
                tracing::warn!(%error, "publishing metrics failed");
            }
        }
    });
}

/// Serves the dashboard on `listener`, publishing every `interval`, until
/// `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    interval: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let latest = Latest::default();
    let xws = Xws::new(DashboardHandler::new(latest.clone()));
    spawn_job(&xws, latest, interval);
    xws_tokio::serve_app(listener, xws.clone(), app(&xws), shutdown).await
}

/// The one-minute load average (Linux).
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
