//! Waiting between reconnection attempts.

use backon::{BackoffBuilder, ExponentialBuilder};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::RedisBrokerConfig;

/// Exponential backoff with jitter that restarts from the minimum after a
/// successful connection.
pub(crate) struct Backoff {
    builder: ExponentialBuilder,
    delays: <ExponentialBuilder as BackoffBuilder>::Backoff,
}

impl Backoff {
    pub(crate) fn new(config: &RedisBrokerConfig) -> Self {
        let builder = ExponentialBuilder::new()
            .with_min_delay(config.min_backoff)
            .with_max_delay(config.max_backoff)
            .with_jitter()
            .without_max_times();
        Self {
            builder,
            delays: builder.build(),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.delays = self.builder.build();
    }

    /// Sleeps for the next delay; `false` if cancelled meanwhile.
    pub(crate) async fn wait(&mut self, cancel: &CancellationToken) -> bool {
        let delay = self.delays.next().unwrap_or(Duration::from_secs(1));
        tokio::select! {
            () = cancel.cancelled() => false,
            () = tokio::time::sleep(delay) => true,
        }
    }
}
