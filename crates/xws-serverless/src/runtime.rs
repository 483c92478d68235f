//! What a stream needs from the runtime it runs on: timers, a background
//! task, and ids. Tokio provides them on Vercel and Lambda
//! ([`TokioRuntime`]); the Workers runtime on Cloudflare.

use std::future::Future;
use std::time::Duration;

use xws::{MaybeSend, MaybeSync, PeerId};

/// Timers, tasks and ids for streams.
pub trait Runtime: Clone + MaybeSend + MaybeSync + 'static {
    /// A timer future.
    type Sleep: Future<Output = ()> + MaybeSend + 'static;

    /// Resolves after `duration`.
    fn sleep(&self, duration: Duration) -> Self::Sleep;

    /// Runs `task` in the background (the `close` hook of a stream whose
    /// client left).
    fn spawn(&self, task: impl Future<Output = ()> + MaybeSend + 'static);

    /// A new stream id, unique across instances.
    fn stream_id(&self) -> PeerId;
}

#[cfg(feature = "tokio")]
pub use tokio_runtime::TokioRuntime;

#[cfg(feature = "tokio")]
mod tokio_runtime {
    use super::*;
    use std::hash::{BuildHasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Tokio's timers and tasks. Stream ids are a random per-process prefix
    /// and a counter.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct TokioRuntime;

    static NEXT: AtomicU64 = AtomicU64::new(0);

    fn process_prefix() -> u64 {
        static PREFIX: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        // RandomState is seeded from the OS's randomness once per process.
        *PREFIX.get_or_init(|| RandomState::new().hash_one(std::process::id()))
    }

    impl Runtime for TokioRuntime {
        type Sleep = tokio::time::Sleep;

        fn sleep(&self, duration: Duration) -> Self::Sleep {
            tokio::time::sleep(duration)
        }

        fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
            tokio::spawn(task);
        }

        fn stream_id(&self) -> PeerId {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            PeerId::new(format!("sse-{:016x}-{n}", process_prefix()))
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn ids_differ() {
            let runtime = TokioRuntime;
            assert_ne!(runtime.stream_id(), runtime.stream_id());
        }
    }
}
