//! The hook rules, written once: what happens around every hook on every
//! adapter.
//!
//! An adapter turns its runtime's events into calls on a [`Session`] (the
//! connection opened, a message arrived with the current time, it closed)
//! and applies what comes back in an [`Outcome`] (store the peer's new
//! state). Everything else the session does through the peer's
//! [`PeerTransport`](super::PeerTransport): the app pong, the close frame.
//! The rules, in order, for each message:
//!
//! | step | on breach |
//! |---|---|
//! | size ≤ [`Limits::max_message_size`] | `error` hook, close 1009 |
//! | rate within [`Limits::rate`] | `error` hook per refused message; after `tolerance` refusals, close 1008 |
//! | exactly [`APP_PING`](crate::client::APP_PING) | answered [`APP_PONG`](crate::client::APP_PONG); the handler never sees it |
//! | a [`binary_notice`](crate::client::binary_notice), where [`SessionConfig::binary_as_text`] | the handler gets the binary message it carries |
//! | the `message` hook | an error or a caught panic: `error` hook, close 1011 |
//! | context or topics changed | [`Outcome::persist`] |
//!
//! `open` follows the last two rows. The session needs no socket and no
//! clock of its own, so its rules are tested without any runtime
//! (`session/tests.rs`).

use std::sync::Arc;

use tracing::Instrument as _;

use super::{
    RateDecision, RateLimiter,
    guard::{contained, guarded},
    take_changed,
};
use crate::{
    CloseFrame, Error, Handler, Limits, Message, Peer, RateLimit, RequestInfo, Upgrade, client,
    metrics::{self, DropReason},
};

/// The part of [`Limits`] a session enforces, plus the heartbeat answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Largest message accepted, in bytes; larger ones close with 1009.
    pub max_message_size: usize,
    /// Per-peer rate limit; `None` disables it.
    pub rate: Option<RateLimit>,
    /// Answer [`APP_PING`](crate::client::APP_PING) without calling the
    /// handler. On by default; off only for an adapter whose runtime
    /// answers it before the session sees it.
    pub answer_app_ping: bool,
    /// The target's name (`tokio`, `cloudflare`, `aws`, …) in the
    /// connection's `tracing` span, beside the peer id.
    pub target: &'static str,
    /// The runtime refuses binary frames (API Gateway): clients send binary
    /// messages as [`binary_notice`](crate::client::binary_notice)s, which
    /// the handler gets back as binary messages. Off by default.
    pub binary_as_text: bool,
}

impl From<&Limits> for SessionConfig {
    fn from(limits: &Limits) -> Self {
        Self {
            max_message_size: limits.max_message_size,
            rate: limits.rate,
            answer_app_ping: true,
            target: "xws",
            binary_as_text: false,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::from(&Limits::default())
    }
}

/// What the adapter must do after a session step.
#[must_use = "an adapter that persists peers must store the snapshot when `persist` is set"]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The peer's context or topics changed: store its new snapshot
    /// ([`snapshot`](super::snapshot)) where the runtime keeps peers.
    pub persist: bool,
    /// The session closed the peer with this frame (already sent through
    /// the transport); nothing more should be dispatched for it.
    pub closed: Option<CloseFrame>,
}

/// Runs the `upgrade` hook; a panic in it answers 500 like any server error.
pub async fn decide_upgrade<H: Handler>(handler: &H, request: &RequestInfo) -> Upgrade<H::Context> {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(handler.upgrade(request))
        .catch_unwind()
        .await
    {
        Ok(upgrade) => upgrade,
        Err(_) => {
            tracing::error!(path = %request.path, "the upgrade hook panicked; answering 500");
            crate::Reject::new(http::StatusCode::INTERNAL_SERVER_ERROR, "internal error").into()
        }
    }
}

/// One peer's connection as the hook rules see it.
pub struct Session<H: Handler> {
    handler: Arc<H>,
    peer: Peer<H::Context>,
    config: SessionConfig,
    limiter: Option<RateLimiter>,
    /// `xws.peer{peer, target}`: the hooks run in it, so whatever a
    /// handler logs says which connection and which target.
    span: tracing::Span,
    closed: bool,
    /// Whether this session counted the connection open, so its close is
    /// counted once and only against an open it counted.
    counted_open: bool,
}

impl<H: Handler> Session<H> {
    /// A session for a peer that has just been accepted, at `now_ms` on any
    /// monotonic millisecond clock (the rate limiter's).
    pub fn new(
        handler: Arc<H>,
        peer: Peer<H::Context>,
        config: SessionConfig,
        now_ms: u64,
    ) -> Self {
        let limiter = config.rate.map(|rate| RateLimiter::new(rate, now_ms));
        let mut session = Self::resume(handler, peer, config, limiter);
        session.counted_open = false;
        session
    }

    /// A session rebuilt for a peer that already exists (after hibernation,
    /// or in a new stateless invocation), with its rate limiter's stored
    /// state. `None` runs without a limiter; for a full bucket pass
    /// `Some(RateLimiter::new(rate, now_ms))`.
    pub fn resume(
        handler: Arc<H>,
        peer: Peer<H::Context>,
        config: SessionConfig,
        limiter: Option<RateLimiter>,
    ) -> Self {
        let span = tracing::info_span!("xws.peer", peer = %peer.id(), target = config.target);
        Self {
            handler,
            peer,
            config,
            span,
            limiter: config.rate.and(limiter),
            closed: false,
            // A resumed session belongs to a connection counted open by an
            // earlier one (before hibernation, another invocation).
            counted_open: true,
        }
    }

    /// The connection's span (`xws.peer`, with `peer` and `target`), for
    /// the adapter's own events about it.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// The peer.
    pub fn peer(&self) -> &Peer<H::Context> {
        &self.peer
    }

    /// The rate limiter's state, for adapters that store it between
    /// invocations.
    pub fn limiter(&self) -> Option<&RateLimiter> {
        self.limiter.as_ref()
    }

    /// The connection opened: the `open` hook.
    pub async fn open(&mut self) -> Outcome {
        tracing::debug!(parent: &self.span, peer = %self.peer.id(), path = %self.peer.request().path, "peer open");
        if !self.counted_open {
            self.counted_open = true;
            metrics::connection_opened();
        }
        match guarded(self.handler.open(&self.peer))
            .instrument(self.span.clone())
            .await
        {
            Ok(()) => self.settled(),
            Err(error) => self.fail(error).await,
        }
    }

    /// A message arrived at `now_ms`: size, rate, app ping, then the
    /// `message` hook.
    pub async fn message(&mut self, message: Message, now_ms: u64) -> Outcome {
        if self.closed {
            return Outcome::default();
        }
        metrics::message_in(message.len());
        let limit = self.config.max_message_size;
        if message.len() > limit {
            let size = message.len();
            metrics::dropped(DropReason::Oversize, 1);
            return self.fail(Error::MessageTooLarge { size, limit }).await;
        }
        if let Some(outcome) = self.count(now_ms).await {
            return outcome;
        }
        if self.config.answer_app_ping && client::is_app_ping(&message) {
            // A peer that cannot take the pong is closing or slow; its own
            // queue policy has already acted.
            let _ = self.peer.send(client::app_pong());
            return Outcome::default();
        }
        let message = if self.config.binary_as_text {
            client::binary_from_notice(message)
        } else {
            message
        };
        match guarded(self.handler.message(&self.peer, message))
            .instrument(self.span.clone())
            .await
        {
            Ok(()) => self.settled(),
            Err(error) => self.fail(error).await,
        }
    }

    /// A control frame (ping or pong) arrived at `now_ms`. It reaches no
    /// hook but counts toward the rate limit, so a ping flood is closed like
    /// a message flood.
    pub async fn control_frame(&mut self, now_ms: u64) -> Outcome {
        if self.closed {
            return Outcome::default();
        }
        self.count(now_ms).await.unwrap_or_default()
    }

    /// The connection closed (either side, a timeout, an error): the
    /// `close` hook. The adapter removes the peer from its topics after.
    pub async fn close(&mut self, frame: CloseFrame) {
        tracing::debug!(parent: &self.span, peer = %self.peer.id(), code = %frame.code, "peer closed");
        if self.counted_open {
            self.counted_open = false;
            metrics::connection_closed(frame.code);
        }
        self.closed = true;
        contained(self.handler.close(&self.peer, frame))
            .instrument(self.span.clone())
            .await;
    }

    /// Something failed that ends this peer (a state that cannot be stored,
    /// a transport error): the `error` hook, then a close with the error's
    /// frame ([`Error::close_frame`]).
    pub async fn fail(&mut self, error: Error) -> Outcome {
        tracing::warn!(parent: &self.span, peer = %self.peer.id(), %error, "closing the peer");
        self.report(&error).await;
        let frame = error.close_frame();
        self.peer.close(frame.code, frame.reason.clone());
        self.closed = true;
        Outcome {
            persist: false,
            closed: Some(frame),
        }
    }

    /// Tells the handler about an error that does not end the peer.
    pub async fn report(&mut self, error: &Error) {
        contained(self.handler.error(&self.peer, error))
            .instrument(self.span.clone())
            .await;
    }

    /// Rate-limits one incoming frame; `Some` when it must not go further.
    async fn count(&mut self, now_ms: u64) -> Option<Outcome> {
        match self.limiter.as_mut()?.check(now_ms) {
            RateDecision::Allow => None,
            RateDecision::Refuse => {
                metrics::dropped(DropReason::RateLimit, 1);
                self.report(&Error::RateLimited).await;
                Some(Outcome::default())
            }
            RateDecision::Close => {
                metrics::dropped(DropReason::RateLimit, 1);
                Some(self.fail(Error::RateLimited).await)
            }
        }
    }

    fn settled(&self) -> Outcome {
        Outcome {
            persist: take_changed(&self.peer),
            closed: None,
        }
    }
}

#[cfg(test)]
mod tests;
