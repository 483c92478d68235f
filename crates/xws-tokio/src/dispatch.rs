//! A peer's hooks on Tokio: the core's [`Session`] over the peer's link.
//!
//! The rules around each hook (limits, the app ping, errors and panics)
//! are the session's; this file only creates the peer and passes the clock.

use std::sync::Arc;
use xws::{
    CloseFrame, Handler, Message, Peer, RequestInfo,
    adapter::{PeerPolicy, Session, SessionConfig, new_peer as core_peer},
};

use crate::{
    app::Shared,
    link::{LinkKind, PeerLink},
    outbox::OutboxReader,
    transport::TokioTransport,
};

/// A peer's session with the link it writes to: `open`, each message,
/// then `close`. A hook that errors or panics closes this peer only.
pub(crate) struct Dispatcher<H: Handler> {
    pub(crate) shared: Arc<Shared<H>>,
    pub(crate) link: Arc<PeerLink>,
    session: Session<H>,
}

/// Creates a peer of `kind` with its queue; listed peers (WebSocket and
/// fallback) are registered.
pub(crate) fn new_peer<H: Handler>(
    shared: &Arc<Shared<H>>,
    kind: LinkKind,
    info: RequestInfo,
    context: H::Context,
) -> (Peer<H::Context>, Arc<PeerLink>, OutboxReader) {
    let id = shared.registry.new_peer_id();
    let limits = &shared.config.limits;
    let (link, queue) = PeerLink::new(id.clone(), kind, limits.send_queue, limits.slow_consumer);
    let link = Arc::new(link);
    let transport = TokioTransport {
        link: Arc::clone(&link),
        registry: Arc::clone(&shared.registry),
    };
    let policy: Arc<dyn PeerPolicy<H::Context>> = shared.handler.clone();
    let peer = core_peer(
        id,
        info,
        context,
        Box::new(transport),
        policy,
        shared.config.limits.max_topics_per_peer,
    );
    crate::streams::attach(&shared.registry, &peer, &link);
    if kind != LinkKind::Sse {
        shared.registry.insert(&link);
    }
    (peer, link, queue)
}

impl<H: Handler> Dispatcher<H> {
    pub(crate) fn new(shared: Arc<Shared<H>>, peer: Peer<H::Context>, link: Arc<PeerLink>) -> Self {
        let config = SessionConfig {
            answer_app_ping: shared.config.answer_app_ping,
            target: "tokio",
            ..SessionConfig::from(&shared.config.limits)
        };
        let session = Session::new(shared.handler.clone(), peer, config, shared.now_ms());
        Self {
            shared,
            link,
            session,
        }
    }

    pub(crate) fn peer(&self) -> &Peer<H::Context> {
        self.session.peer()
    }

    /// The `open` hook. Tokio keeps peers in memory: nothing to persist.
    pub(crate) async fn open(&mut self) {
        let _ = self.session.open().await;
    }

    /// One incoming message.
    pub(crate) async fn message(&mut self, message: Message) {
        let _ = self.session.message(message, self.shared.now_ms()).await;
    }

    /// `count` frames that are no message (continuations, pings, pongs):
    /// each counts toward the rate, until one closes the peer.
    pub(crate) async fn control_frames(&mut self, count: u32) {
        let now = self.shared.now_ms();
        for _ in 0..count {
            if self.session.control_frame(now).await.closed.is_some() {
                break;
            }
        }
    }

    /// The `close` hook, then the peer leaves the registry and its topics.
    pub(crate) async fn close(&mut self, frame: CloseFrame) {
        self.session.close(frame).await;
        let peer = self.session.peer();
        self.shared.registry.remove(peer.id(), &peer.topics());
    }
}
