//! State the broker handle and its two tasks share.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use tokio::sync::Notify;

use crate::stats::{Counters, Link};

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) counters: Counters,
    pub(crate) link: Link,
    /// Set while publications are being dropped, so an outage logs one
    /// warning when it starts and one line when it ends, not one per message.
    dropping: AtomicBool,
    /// Woken whenever envelopes leave the queue (published or dropped), for
    /// [`RedisBroker::flushed`](crate::RedisBroker::flushed).
    pub(crate) settled: Notify,
}

impl Shared {
    pub(crate) fn dropped(&self, count: u64, why: &str) {
        Counters::add(&self.counters.dropped, count);
        self.settled.notify_waiters();
        if !self.dropping.swap(true, Relaxed) {
            tracing::warn!(why, "xws-redis: dropping cross-node publications");
        }
    }

    pub(crate) fn published(&self, count: u64) {
        Counters::add(&self.counters.published, count);
        self.settled.notify_waiters();
        if self.dropping.swap(false, Relaxed) {
            let dropped = self.counters.dropped.load(Relaxed);
            tracing::info!(dropped_total = dropped, "xws-redis: publishing again");
        }
    }
}

impl Shared {
    /// How many forwarded envelopes have left the queue, one way or the other.
    pub(crate) fn settled_count(&self) -> u64 {
        self.counters.published.load(Relaxed) + self.counters.dropped.load(Relaxed)
    }
}
