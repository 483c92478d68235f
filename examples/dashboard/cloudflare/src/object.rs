//! The Durable Object class `Dashboard`: the xws engine plus the scheduled
//! job's route.

use dashboard::{DashboardHandler, LatestMetrics, Metrics};
use worker::{DurableObject, Env, Method, Request, Response, State, durable_object};
use xws_cloudflare::Object;

use crate::{PUBLISH_ROUTE, StoredLatest};

/// Hosts every viewer; `wrangler.toml` binds it as `DASHBOARD`.
#[durable_object]
pub struct Dashboard {
    object: Object<DashboardHandler<StoredLatest>>,
}

impl Dashboard {
    /// One run of the scheduled job: the next sample, stored and published
    /// through the object's own hub.
    async fn publish(&self) -> worker::Result<Response> {
        let latest = StoredLatest::new(self.object.storage());
        let previous = latest.get().await.map_err(to_worker)?;
        let sample = previous.map_or(1, |m| m.sample + 1);
        // The platform tells no load average; the sockets include SSE streams.
        let metrics = Metrics::sample(sample, None, self.object.stats().sockets);
        let delivered = dashboard::publish(&self.object.hub(), &latest, metrics)
            .await
            .map_err(to_worker)?;
        Response::from_json(&serde_json::json!({ "sample": sample, "delivered": delivered }))
    }
}

impl DurableObject for Dashboard {
    fn new(state: State, env: Env) -> Self {
        let handler = DashboardHandler::new(StoredLatest::new(state.storage()));
        Self {
            object: Object::new(state, handler, crate::config(&env)),
        }
    }

    async fn fetch(&self, request: Request) -> worker::Result<Response> {
        if self.object.handles(&request) {
            return self.object.fetch(request).await;
        }
        match (request.method(), request.path().as_str()) {
            (Method::Post, PUBLISH_ROUTE) => self.publish().await,
            _ => Response::error("not found", 404),
        }
    }

    xws_cloudflare::websocket_events!(object);
}

fn to_worker(error: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(error.to_string())
}
