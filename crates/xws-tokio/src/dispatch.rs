//! Running a peer's hooks the same way whatever its transport.

use std::sync::Arc;
use xws::{
    CloseCode, CloseFrame, Error, Handler, Message, Peer, RateDecision, RateLimiter, RequestInfo,
    adapter::SubscribePolicy,
};

use crate::{
    app::Shared,
    app_ping,
    hooks::{contained, guarded},
    link::{Frame, LinkKind, PeerLink},
    outbox::OutboxReader,
    transport::TokioTransport,
};

/// A peer with its link and rate limiter: `open`, each message, then `close`.
///
/// A hook that errors or panics is logged, reported to the `error` hook,
/// and closes this peer only, with 1011.
pub(crate) struct Dispatcher<H: Handler> {
    pub(crate) shared: Arc<Shared<H>>,
    pub(crate) peer: Peer<H::Context>,
    pub(crate) link: Arc<PeerLink>,
    limiter: Option<RateLimiter>,
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
    let policy: Arc<dyn SubscribePolicy<H::Context>> = shared.handler.clone();
    let peer = Peer::new(id, info, context, Box::new(transport), policy);
    crate::streams::attach(&shared.registry, &peer, &link);
    if kind != LinkKind::Sse {
        shared.registry.insert(&link);
    }
    (peer, link, queue)
}

impl<H: Handler> Dispatcher<H> {
    pub(crate) fn new(shared: Arc<Shared<H>>, peer: Peer<H::Context>, link: Arc<PeerLink>) -> Self {
        let limiter = shared
            .config
            .limits
            .rate
            .map(|rate| RateLimiter::new(rate, shared.now_ms()));
        Self {
            shared,
            peer,
            link,
            limiter,
        }
    }

    /// The `open` hook.
    pub(crate) async fn open(&mut self) {
        tracing::debug!(peer = %self.peer.id(), path = %self.peer.request().path, "peer open");
        if let Err(error) = guarded(self.shared.handler.open(&self.peer)).await {
            self.fail(error).await;
        }
    }

    /// One incoming message: rate limit, app-level ping, then the
    /// `message` hook.
    pub(crate) async fn message(&mut self, message: Message) {
        if let Some(limiter) = self.limiter.as_mut() {
            match limiter.check(self.shared.now_ms()) {
                RateDecision::Allow => {}
                RateDecision::Refuse => {
                    self.report(&Error::RateLimited).await;
                    return;
                }
                RateDecision::Close => {
                    tracing::warn!(peer = %self.peer.id(), "sustained flood: closing with 1008");
                    self.report(&Error::RateLimited).await;
                    self.link.request_close(CloseFrame::new(
                        CloseCode::POLICY_VIOLATION,
                        "rate limit exceeded",
                    ));
                    return;
                }
            }
        }
        if self.shared.config.answer_app_ping && app_ping::is_ping(&message) {
            let _ = self.link.push(Frame::Message(app_ping::pong()));
            return;
        }
        if let Err(error) = guarded(self.shared.handler.message(&self.peer, message)).await {
            self.fail(error).await;
        }
    }

    /// The `close` hook, then the peer leaves the registry and its topics.
    pub(crate) async fn close(&mut self, frame: CloseFrame) {
        tracing::debug!(peer = %self.peer.id(), code = %frame.code, "peer closed");
        contained(self.shared.handler.close(&self.peer, frame)).await;
        self.shared
            .registry
            .remove(self.peer.id(), &self.peer.topics());
    }

    async fn fail(&mut self, error: Error) {
        tracing::error!(peer = %self.peer.id(), %error, "handler failed; closing the peer with 1011");
        self.report(&error).await;
        self.link.request_close(CloseFrame::new(
            CloseCode::INTERNAL_ERROR,
            "internal server error",
        ));
    }

    async fn report(&mut self, error: &Error) {
        contained(self.shared.handler.error(&self.peer, error)).await;
    }
}
