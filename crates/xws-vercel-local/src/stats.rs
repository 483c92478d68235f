//! What the harness saw, for tests and for people.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// Counters, shared by the proxy and the bridge readers.
#[derive(Debug, Default)]
pub struct Stats {
    pub(crate) requests: AtomicU64,
    pub(crate) ends: AtomicU64,
    pub(crate) cut_at_max_duration: AtomicU64,
    pub(crate) timed_out: AtomicU64,
    pub(crate) logs: AtomicU64,
    pub(crate) bad_messages: AtomicU64,
    /// Invocations whose `end` message has not come yet.
    pending: Mutex<HashSet<String>>,
}

/// A snapshot of [`Stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    /// Requests sent to a function.
    pub requests: u64,
    /// `end` messages received for them.
    pub ends: u64,
    /// Responses still streaming at the max duration, and cut.
    pub cut_at_max_duration: u64,
    /// Requests whose response head did not come within the max duration.
    pub timed_out: u64,
    /// Requests sent whose `end` message has not come.
    pub pending_ends: u64,
    /// Log messages from the functions.
    pub logs: u64,
    /// Bridge messages that did not parse.
    pub bad_messages: u64,
}

impl Stats {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn request(&self, invocation: &str) {
        Self::bump(&self.requests);
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(invocation.to_owned());
    }

    pub(crate) fn end(&self, invocation: &str) {
        Self::bump(&self.ends);
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(invocation);
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.requests.load(Relaxed),
            ends: self.ends.load(Relaxed),
            cut_at_max_duration: self.cut_at_max_duration.load(Relaxed),
            timed_out: self.timed_out.load(Relaxed),
            pending_ends: self.pending.lock().unwrap_or_else(|e| e.into_inner()).len() as u64,
            logs: self.logs.load(Relaxed),
            bad_messages: self.bad_messages.load(Relaxed),
        }
    }
}
