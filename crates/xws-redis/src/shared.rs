//! State the broker handle and its two tasks share.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use crate::stats::{Counters, Link};

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) counters: Counters,
    pub(crate) link: Link,
    /// Set while publications are being dropped, so an outage logs one
    /// warning when it starts and one line when it ends, not one per message.
    dropping: AtomicBool,
}

impl Shared {
    pub(crate) fn dropped(&self, count: u64, why: &str) {
        Counters::add(&self.counters.dropped, count);
        if !self.dropping.swap(true, Relaxed) {
            tracing::warn!(why, "xws-redis: dropping cross-node publications");
        }
    }

    pub(crate) fn published(&self, count: u64) {
        Counters::add(&self.counters.published, count);
        if self.dropping.swap(false, Relaxed) {
            let dropped = self.counters.dropped.load(Relaxed);
            tracing::info!(dropped_total = dropped, "xws-redis: publishing again");
        }
    }
}
