//! Live monitoring: one portable handler, a scheduled job that publishes.
//!
//! A peer gets the current metrics as soon as it opens and is subscribed to
//! [`TOPIC`]; a scheduled job (a tokio interval here; a Worker cron trigger
//! or an EventBridge schedule elsewhere) computes fresh metrics and
//! publishes them through the [`xws::Hub`]. Pages that only listen use the
//! same topic over SSE.

pub mod metrics;
#[cfg(feature = "tokio")]
pub mod server;

use std::sync::{Arc, Mutex, PoisonError};
use xws::{Handler, HookResult, Hub, Peer, Topic};

pub use metrics::Metrics;

/// The topic every update is published on.
pub const TOPIC: &str = "metrics-updates";

/// The latest metrics, shared by the handler and the scheduled job.
#[derive(Clone, Debug, Default)]
pub struct Latest(Arc<Mutex<Option<Metrics>>>);

impl Latest {
    /// The latest metrics, if the job has run.
    pub fn get(&self) -> Option<Metrics> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, metrics: Metrics) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(metrics);
    }
}

/// The dashboard's handler.
#[derive(Clone, Debug, Default)]
pub struct DashboardHandler {
    latest: Latest,
}

impl DashboardHandler {
    /// A handler showing what `latest` holds.
    pub fn new(latest: Latest) -> Self {
        Self { latest }
    }
}

impl Handler for DashboardHandler {
    type Context = ();

    async fn open(&self, peer: &Peer<()>) -> HookResult {
        if let Some(metrics) = self.latest.get() {
            peer.send_json(&metrics.message())?;
        }
        peer.subscribe(TOPIC)?;
        Ok(())
    }

    /// Listeners may follow the metrics, nothing else.
    fn authorize_subscribe(&self, _peer: &Peer<()>, topic: &Topic) -> bool {
        topic.as_str() == TOPIC
    }
}

/// One run of the scheduled job: store `metrics` as the latest and publish
/// them to every subscriber. Every target's scheduler calls this.
pub async fn publish(hub: &Hub, latest: &Latest, metrics: Metrics) -> Result<usize, xws::Error> {
    latest.set(metrics.clone());
    Ok(hub.publish_json(TOPIC, &metrics.message()).await?.delivered)
}
