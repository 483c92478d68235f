//! Expiry on open connections: a peer whose token expires is closed with
//! [`CloseCode::UNAUTHORIZED`] (3000, the code IANA registers for
//! authentication) and the reason [`EXPIRED_REASON`]. The browser client
//! (`xws.js`) reads that code, asks its `token` callback for a fresh token
//! and reconnects.
//!
//! Every target checks at each message ([`close_if_expired`]): portable,
//! and free. A peer that only listens is closed on time where a timer can
//! run without cost: on Tokio by [`ExpiryTimers`] (feature `tokio`). A
//! Durable Object would stay awake (and billed) for a timer, and a Lambda
//! has nothing running between events, so there an idle peer is closed at
//! its next message or heartbeat answer, or by the platform's own limit
//! (API Gateway ends every connection after 2 hours).

use xws::{CloseCode, Peer};

use crate::Identity;

/// The close code of an expired token: 3000, "Unauthorized" in IANA's
/// WebSocket close code registry.
pub const EXPIRED_CODE: CloseCode = CloseCode::UNAUTHORIZED;
/// The close reason of an expired token.
pub const EXPIRED_REASON: &str = "token expired";

/// Closes `peer` with 3000 "token expired" if `identity`'s token has
/// expired; returns whether it did. Call it first in the `message` hook.
///
/// ```
/// use xws_auth::{Identity, TopicPatterns, close_if_expired};
/// # fn message(peer: &xws::Peer<Identity>) -> xws::HookResult {
/// let identity = peer.context().clone();
/// if close_if_expired(peer, &identity) {
///     return Ok(()); // nothing the expired token asked for is done
/// }
/// # Ok(()) }
/// ```
pub fn close_if_expired<C>(peer: &Peer<C>, identity: &Identity) -> bool {
    if !identity.is_expired() {
        return false;
    }
    tracing::debug!(peer = %peer.id(), user = %identity.user, "token expired: closing with 3000");
    peer.close(EXPIRED_CODE, EXPIRED_REASON);
    true
}

#[cfg(feature = "tokio")]
pub use timers::ExpiryTimers;

#[cfg(feature = "tokio")]
mod timers {
    use parking_lot::Mutex;
    use std::collections::HashMap;
    use tokio::task::AbortHandle;
    use xws::{Peer, PeerId};

    use super::{EXPIRED_CODE, EXPIRED_REASON};
    use crate::Identity;

    /// One timer per open peer that closes it when its token expires, even
    /// if it never sends anything (Tokio only).
    ///
    /// [`arm`](Self::arm) in the `open` hook, [`disarm`](Self::disarm) in
    /// `close`, so a peer that leaves early frees its timer at once.
    #[derive(Debug, Default)]
    pub struct ExpiryTimers {
        timers: Mutex<HashMap<PeerId, AbortHandle>>,
    }

    impl ExpiryTimers {
        /// No timers yet.
        pub fn new() -> Self {
            Self::default()
        }

        /// Closes `peer` with 3000 "token expired" when `identity` expires.
        /// Must be called inside a Tokio runtime.
        pub fn arm<C: Send + Sync + 'static>(&self, peer: &Peer<C>, identity: &Identity) {
            let remaining = identity.remaining();
            let target = peer.clone();
            let task = tokio::spawn(async move {
                tokio::time::sleep(remaining).await;
                tracing::debug!(peer = %target.id(), "token expired: closing with 3000");
                target.close(EXPIRED_CODE, EXPIRED_REASON);
            });
            if let Some(previous) = self
                .timers
                .lock()
                .insert(peer.id().clone(), task.abort_handle())
            {
                previous.abort();
            }
        }

        /// Stops the timer of `peer`, if any.
        pub fn disarm(&self, peer: &PeerId) {
            if let Some(timer) = self.timers.lock().remove(peer) {
                timer.abort();
            }
        }

        /// How many timers are armed.
        pub fn len(&self) -> usize {
            self.timers.lock().len()
        }

        /// Whether no timer is armed.
        pub fn is_empty(&self) -> bool {
            self.timers.lock().is_empty()
        }
    }
}
