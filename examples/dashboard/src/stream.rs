//! The dashboard as an SSE-only handler, for the function targets without
//! WebSockets (Vercel, a Lambda function URL, a plain Worker).

use xws::caps::{Capability, Needs};
use xws::{Handler, HookResult, Peer, RequestInfo, Topic};

use crate::{DashboardHandler, Latest, LatestMetrics};

/// [`DashboardHandler`]'s hooks, needing SSE instead of WebSocket: a stream
/// gets the current metrics first, then every sample published to
/// [`TOPIC`](crate::TOPIC), from whichever instance publishes it; a stream
/// that resumes gets what it missed instead of the state.
#[derive(Clone, Debug, Default)]
pub struct DashboardStream<L = Latest>(DashboardHandler<L>);

impl<L: LatestMetrics> DashboardStream<L> {
    /// Streams showing what `latest` holds.
    pub fn new(latest: L) -> Self {
        Self(DashboardHandler::new(latest))
    }
}

impl<L: LatestMetrics> Handler for DashboardStream<L> {
    type Context = ();

    /// The job publishes from another function, so the topic spans instances.
    const NEEDS: Needs = Needs::of(&[
        Capability::Sse,
        Capability::PubSubAcrossInstances,
        Capability::PublishFromOutside,
        Capability::SendFromOpen,
    ]);

    /// The current metrics first, then the topic; a client that resumes
    /// (it names the last event it saw in `Last-Event-ID`) gets no state:
    /// where the topic keeps history, the missed samples come instead (or,
    /// when they cannot, the newest one).
    async fn open(&self, peer: &Peer<()>) -> HookResult {
        if peer.request().header("last-event-id").is_some() {
            peer.subscribe(crate::TOPIC)?;
            return Ok(());
        }
        self.0.open(peer).await
    }

    fn authorize_subscribe(&self, peer: &Peer<()>, topic: &Topic) -> bool {
        self.0.authorize_subscribe(peer, topic)
    }

    /// `open` reads `Last-Event-ID`; a peer keeps no other header.
    fn kept_request(&self, request: &RequestInfo) -> RequestInfo {
        request.kept(&["last-event-id"])
    }
}

/// The platform the stream handler is built for: Vercel with the feature
/// `target-vercel` (the Vercel functions in `vercel/` turn it on), a Tokio
/// server otherwise. Either way the handler is checked against it at
/// compile time; building it for a target without SSE fails.
#[cfg(feature = "target-vercel")]
pub type StreamTarget = xws::caps::Vercel;
/// The platform the stream handler is built for (see the `target-vercel` feature).
#[cfg(not(feature = "target-vercel"))]
pub type StreamTarget = xws::caps::Tokio;

xws::assert_deployable!(StreamTarget, DashboardStream);
