//! Counters and connection state, for tests, health checks and dashboards.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use tokio::sync::watch;

/// The state of the broker's two Redis connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkState {
    /// The publishing connection is up.
    pub publisher_up: bool,
    /// The subscribing connection is up and subscribed to the channel.
    pub subscribed: bool,
    /// How many times the publisher connected (1 after start, +1 per reconnect).
    pub publisher_sessions: u64,
    /// How many times the subscriber subscribed (1 after start, +1 per resubscribe).
    pub subscriber_sessions: u64,
}

impl LinkState {
    /// Both connections are up: publications flow both ways.
    pub fn is_ready(&self) -> bool {
        self.publisher_up && self.subscribed
    }
}

/// A snapshot of a broker's counters, from [`RedisBroker::stats`](crate::RedisBroker::stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BrokerStats {
    /// The connections, as of the snapshot.
    pub link: LinkState,
    /// Envelopes handed to [`forward`](xws::adapter::Broker::forward). Each ends up
    /// `published` or `dropped`; the difference is still queued.
    pub forwarded: u64,
    /// Envelopes Redis accepted.
    pub published: u64,
    /// Envelopes lost on the way out: queue full, larger than the envelope
    /// size limit, or the connection failed while they were being published
    /// (never retried, to never duplicate).
    pub dropped: u64,
    /// Envelopes from other nodes handed to the adapter.
    pub received: u64,
    /// This node's own envelopes echoed back by Redis and skipped.
    pub own_skipped: u64,
    /// Sealed messages that were not envelopes (nodes of different
    /// versions?), or pushes that were not messages: logged and skipped.
    pub malformed: u64,
    /// Messages on the channel not sealed with a secret of this node
    /// (unsealed or forged), refused.
    pub refused: u64,
    /// Messages on the channel larger than the envelope size limit, refused.
    pub oversized: u64,
    /// Envelopes dropped on arrival because the receive queue was full.
    pub overflowed: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) forwarded: AtomicU64,
    pub(crate) published: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) received: AtomicU64,
    pub(crate) own_skipped: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) refused: AtomicU64,
    pub(crate) oversized: AtomicU64,
    pub(crate) overflowed: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    /// Adds one; returns whether the new count is a power of two, so what
    /// an attacker can repeat at will is logged 1, 2, 4, 8… times, not once
    /// per message.
    pub(crate) fn add_one_and_tell(counter: &AtomicU64) -> Option<u64> {
        let count = counter.fetch_add(1, Relaxed) + 1;
        count.is_power_of_two().then_some(count)
    }

    pub(crate) fn snapshot(&self, link: LinkState) -> BrokerStats {
        BrokerStats {
            link,
            forwarded: self.forwarded.load(Relaxed),
            published: self.published.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            received: self.received.load(Relaxed),
            own_skipped: self.own_skipped.load(Relaxed),
            malformed: self.malformed.load(Relaxed),
            refused: self.refused.load(Relaxed),
            oversized: self.oversized.load(Relaxed),
            overflowed: self.overflowed.load(Relaxed),
        }
    }
}

/// Who reports the link state: each task flips its own half.
pub(crate) struct Link(watch::Sender<LinkState>);

impl Default for Link {
    fn default() -> Self {
        Self::new()
    }
}

impl Link {
    pub(crate) fn new() -> Self {
        Self(watch::Sender::new(LinkState::default()))
    }

    pub(crate) fn get(&self) -> LinkState {
        *self.0.borrow()
    }

    pub(crate) fn watch(&self) -> watch::Receiver<LinkState> {
        self.0.subscribe()
    }

    pub(crate) fn publisher(&self, up: bool) {
        self.0.send_modify(|s| {
            s.publisher_sessions += u64::from(up && !s.publisher_up);
            s.publisher_up = up;
        });
    }

    pub(crate) fn subscriber(&self, up: bool) {
        self.0.send_modify(|s| {
            s.subscriber_sessions += u64::from(up && !s.subscribed);
            s.subscribed = up;
        });
    }
}
