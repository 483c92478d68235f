//! Counters of the AWS calls the adapter makes, to state what a publish costs.

use std::sync::atomic::{AtomicU64, Ordering};

/// Calls made through one table / gateway pair since it was created.
#[derive(Debug, Default)]
pub struct Metrics {
    dynamodb_reads: AtomicU64,
    dynamodb_writes: AtomicU64,
    posts: AtomicU64,
    gone: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetricsSnapshot {
    /// DynamoDB read requests (`GetItem`, each `Query` page).
    pub dynamodb_reads: u64,
    /// DynamoDB write requests (`PutItem`, `UpdateItem`, `DeleteItem`).
    pub dynamodb_writes: u64,
    /// `PostToConnection` calls.
    pub posts: u64,
    /// Posts answered `410 Gone`.
    pub gone: u64,
}

impl Metrics {
    pub(crate) fn read(&self) {
        self.dynamodb_reads.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn write(&self) {
        self.dynamodb_writes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn post(&self) {
        self.posts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn gone(&self) {
        self.gone.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            dynamodb_reads: self.dynamodb_reads.load(Ordering::Relaxed),
            dynamodb_writes: self.dynamodb_writes.load(Ordering::Relaxed),
            posts: self.posts.load(Ordering::Relaxed),
            gone: self.gone.load(Ordering::Relaxed),
        }
    }
}

impl MetricsSnapshot {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &MetricsSnapshot) -> MetricsSnapshot {
        MetricsSnapshot {
            dynamodb_reads: self.dynamodb_reads - earlier.dynamodb_reads,
            dynamodb_writes: self.dynamodb_writes - earlier.dynamodb_writes,
            posts: self.posts - earlier.posts,
            gone: self.gone - earlier.gone,
        }
    }
}
