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

/// Where the xws metrics ([`xws::metrics`]) go at the end of every
/// invocation, from `XWS_METRICS`: `emf` writes CloudWatch embedded metric
/// format documents to stdout (CloudWatch Logs turns them into metrics in
/// the namespace `XWS_METRICS_NAMESPACE`, default `xws`), `log` writes one
/// `tracing` event per metric, anything else (the default) nothing.
#[derive(Clone, Debug)]
pub enum MetricsOutput {
    /// No metrics recorded.
    Off,
    /// `tracing` events with the target `xws::metrics`.
    Log(&'static xws::metrics::LogRecorder),
    /// CloudWatch EMF lines in this namespace.
    Emf(&'static xws::metrics::LogRecorder, String),
}

impl MetricsOutput {
    /// Reads `XWS_METRICS` and installs the recorder it needs. `Off` when
    /// the application installed a recorder of its own.
    pub fn from_env() -> Self {
        let wanted = std::env::var("XWS_METRICS").unwrap_or_default();
        if wanted != "emf" && wanted != "log" {
            return Self::Off;
        }
        let Some(recorder) = xws::metrics::LogRecorder::install() else {
            tracing::warn!("XWS_METRICS: another metrics recorder is installed; leaving it be");
            return Self::Off;
        };
        if wanted == "log" {
            return Self::Log(recorder);
        }
        let namespace = std::env::var("XWS_METRICS_NAMESPACE").unwrap_or_else(|_| "xws".into());
        Self::Emf(recorder, namespace)
    }

    /// Writes what was recorded since the last flush.
    pub fn flush(&self) {
        match self {
            Self::Off => {}
            Self::Log(recorder) => recorder.log(),
            Self::Emf(recorder, namespace) => {
                let now_ms = u64::try_from(crate::now_ms()).unwrap_or(0);
                for line in recorder.drain_emf(namespace, now_ms) {
                    // EMF documents must be whole lines of the function's
                    // output, not wrapped in a log formatter's line.
                    #[allow(clippy::print_stdout, reason = "CloudWatch reads EMF from stdout")]
                    {
                        println!("{line}");
                    }
                }
            }
        }
    }
}
