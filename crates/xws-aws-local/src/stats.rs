//! Counters an operator or a test reads at `GET /@xws/stats`.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What the emulator did since it started.
#[derive(Debug, Default)]
pub struct Stats {
    pub(crate) connects: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) messages: AtomicU64,
    pub(crate) mocked: AtomicU64,
    pub(crate) disconnects: AtomicU64,
    pub(crate) posts: AtomicU64,
    pub(crate) gone: AtomicU64,
    pub(crate) deletes: AtomicU64,
    pub(crate) async_invokes: AtomicU64,
    pub(crate) http_requests: AtomicU64,
    pub(crate) scheduled: AtomicU64,
}

/// A copy of [`Stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StatsSnapshot {
    /// `$connect` events answered 2xx.
    pub connects: u64,
    /// `$connect` events answered otherwise.
    pub rejected: u64,
    /// `$default` events.
    pub messages: u64,
    /// Messages answered by a `MOCK` route, without the function.
    pub mocked: u64,
    /// `$disconnect` events.
    pub disconnects: u64,
    /// `POST /@connections/{id}` calls.
    pub posts: u64,
    /// Management calls answered 410.
    pub gone: u64,
    /// `DELETE /@connections/{id}` calls.
    pub deletes: u64,
    /// `InvocationType: Event` invocations forwarded.
    pub async_invokes: u64,
    /// Plain HTTP requests routed to the HTTP function.
    pub http_requests: u64,
    /// Scheduled (EventBridge) invocations, by the rate or triggered.
    pub scheduled: u64,
}

impl Stats {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            connects: self.connects.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            messages: self.messages.load(Relaxed),
            mocked: self.mocked.load(Relaxed),
            disconnects: self.disconnects.load(Relaxed),
            posts: self.posts.load(Relaxed),
            gone: self.gone.load(Relaxed),
            deletes: self.deletes.load(Relaxed),
            async_invokes: self.async_invokes.load(Relaxed),
            http_requests: self.http_requests.load(Relaxed),
            scheduled: self.scheduled.load(Relaxed),
        }
    }
}
