//! Live monitoring: one portable handler, a scheduled job that publishes.
//!
//! A peer gets the current metrics as soon as it opens and is subscribed to
//! [`TOPIC`]; a scheduled job (a tokio interval here; a Worker cron trigger
//! or an EventBridge schedule elsewhere) computes fresh metrics and
//! publishes them through the [`xws::Hub`]. Pages that only listen use the
//! same topic over SSE.

mod latest;
pub mod metrics;
#[cfg(feature = "tokio")]
pub mod server;
mod stream;

use xws::caps::{Capability, Needs};
use xws::{BoxError, Handler, HookResult, Hub, Peer, Topic};

pub use latest::{Latest, LatestMetrics};
pub use metrics::Metrics;
pub use stream::{DashboardStream, StreamTarget};

// The deployment targets chosen by feature (see Cargo.toml): a target that
// cannot run the handler fails the build here, naming the alternative.
#[cfg(feature = "target-tokio")]
xws::assert_deployable!(xws::caps::Tokio, DashboardHandler);
#[cfg(feature = "target-cloudflare")]
xws::assert_deployable!(xws::caps::CloudflareDurableObject, DashboardHandler);
#[cfg(feature = "target-aws")]
xws::assert_deployable!(xws::caps::AwsApiGateway, DashboardHandler);

/// The topic every update is published on.
pub const TOPIC: &str = "metrics-updates";

/// What the metrics topic keeps where streams resume from a shared store
/// (Vercel, a Lambda function URL): a short history, the last 100 samples
/// for 5 minutes (as the plain Worker's topic broker), so a stream that
/// reconnects within it misses no sample. The stream functions and the
/// publishing ones must use the same.
pub fn stream_history() -> xws::stream::StreamConfig {
    let recent = xws::stream::Retention::new(100, std::time::Duration::from_secs(5 * 60));
    xws::stream::StreamConfig::new().rule(TOPIC, xws::stream::TopicPolicy::history(recent))
}

/// The dashboard's handler, reading the latest metrics from `L`.
#[derive(Clone, Debug, Default)]
pub struct DashboardHandler<L = Latest> {
    latest: L,
}

impl<L: LatestMetrics> DashboardHandler<L> {
    /// A handler showing what `latest` holds.
    pub fn new(latest: L) -> Self {
        Self { latest }
    }
}

impl<L: LatestMetrics> Handler for DashboardHandler<L> {
    type Context = ();

    /// Updates come from a scheduled job through the hub; a peer gets the
    /// current metrics from `open`. SSE is an extra where the target has it.
    const NEEDS: Needs = Needs::of(&[
        Capability::WebSocket,
        Capability::PubSubInstance,
        Capability::PublishFromOutside,
        Capability::SendFromOpen,
    ]);

    async fn open(&self, peer: &Peer<()>) -> HookResult {
        if let Some(metrics) = self.latest.get().await? {
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
/// them to every subscriber; returns how many peers got them. Every
/// target's scheduler calls this.
pub async fn publish(
    hub: &Hub,
    latest: &impl LatestMetrics,
    metrics: Metrics,
) -> Result<usize, BoxError> {
    latest.set(&metrics).await?;
    Ok(hub.publish_json(TOPIC, &metrics.message()).await?.delivered)
}
