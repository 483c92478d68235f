//! One fallback peer's task: it runs the hooks in order, like a WebSocket
//! connection's loop, with messages arriving from POSTs.

use std::sync::Arc;
use tokio::{sync::mpsc, time::Instant};
use tokio_util::sync::CancellationToken;
use xws::{CloseCode, CloseFrame, Error, Handler, Message, Peer, RateDecision, RateLimiter};

use super::sessions::Sessions;
use crate::{
    admission::Permit,
    app::Shared,
    app_ping,
    hooks::{contained, guarded},
    link::{Frame, PeerLink},
};

/// What a POST or DELETE hands to the session.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// A message for the `message` hook.
    Message(Message),
    /// The client closed the session (`DELETE`).
    Close,
}

/// The peer side of a session.
pub(super) struct Session<H: Handler> {
    shared: Arc<Shared<H>>,
    peer: Peer<H::Context>,
    link: Arc<PeerLink>,
    inbox: mpsc::Receiver<Inbound>,
    limiter: Option<RateLimiter>,
}

/// What is cleaned up when the session ends.
pub(super) struct Ending {
    pub(super) id: String,
    pub(super) sessions: Arc<Sessions>,
    /// Cancelled when the SSE response is dropped.
    pub(super) stream_gone: CancellationToken,
    /// Cancelled here when the session is over, so the stream ends.
    pub(super) ended: CancellationToken,
    pub(super) permit: Permit,
}

impl<H: Handler> Session<H> {
    pub(super) fn new(
        shared: Arc<Shared<H>>,
        peer: Peer<H::Context>,
        link: Arc<PeerLink>,
        inbox: mpsc::Receiver<Inbound>,
    ) -> Self {
        let limiter = shared
            .config
            .limits
            .rate
            .map(|rate| RateLimiter::new(rate, shared.now_ms()));
        Self {
            shared,
            peer,
            link,
            inbox,
            limiter,
        }
    }

    /// Until the peer closes, the client leaves or goes silent, or shutdown.
    async fn serve(&mut self, stream_gone: &CancellationToken) -> CloseFrame {
        // Clients post pings meanwhile, so silence this long means gone.
        let idle = self
            .shared
            .config
            .limits
            .heartbeat
            .map(|hb| hb.interval + hb.timeout);
        let mut deadline = idle.map(|idle| Instant::now() + idle);
        let link = Arc::clone(&self.link);
        let shutdown = self.shared.shutdown.clone();
        loop {
            if let Some(frame) = self.link.close_frame() {
                return frame;
            }
            tokio::select! {
                biased;
                () = link.closing() => {}
                () = shutdown.cancelled() => {
                    return CloseFrame::new(CloseCode::GOING_AWAY, "server shutting down");
                }
                () = stream_gone.cancelled() => {
                    return CloseFrame::new(CloseCode::ABNORMAL, "event stream closed");
                }
                inbound = self.inbox.recv() => match inbound {
                    Some(Inbound::Message(message)) => {
                        deadline = idle.map(|idle| Instant::now() + idle);
                        self.on_message(message).await;
                    }
                    Some(Inbound::Close) => return CloseFrame::normal(),
                    None => return CloseFrame::new(CloseCode::ABNORMAL, "session dropped"),
                },
                () = sleep_until(deadline), if deadline.is_some() => {
                    tracing::debug!(peer = %self.peer.id(), "fallback client silent: ending its session");
                    return CloseFrame::new(CloseCode::ABNORMAL, "no message within the heartbeat");
                }
            }
        }
    }

    /// Rate limit, the app-level ping, then the `message` hook.
    async fn on_message(&mut self, message: Message) {
        if let Some(limiter) = self.limiter.as_mut() {
            match limiter.check(self.shared.now_ms()) {
                RateDecision::Allow => {}
                RateDecision::Refuse => {
                    self.report(&Error::RateLimited).await;
                    return;
                }
                RateDecision::Close => {
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

/// The session's life: `open`, messages, then `close` and cleanup.
pub(super) async fn run<H: Handler>(mut session: Session<H>, ending: Ending) {
    tracing::debug!(peer = %session.peer.id(), "fallback peer open");
    if let Err(error) = guarded(session.shared.handler.open(&session.peer)).await {
        session.fail(error).await;
    }
    let frame = session.serve(&ending.stream_gone).await;
    ending.sessions.remove(&ending.id);
    // The stream reports this frame in its `xws-close` event.
    session.link.request_close(frame.clone());
    ending.ended.cancel();
    tracing::debug!(peer = %session.peer.id(), code = %frame.code, "fallback peer closed");
    contained(session.shared.handler.close(&session.peer, frame)).await;
    session
        .shared
        .registry
        .remove(session.peer.id(), &session.peer.topics());
    drop(ending.permit);
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending::<()>().await,
    }
}
