//! How a [`RedisBroker`](crate::RedisBroker) reaches Redis and behaves when it cannot.

use std::time::Duration;

use crate::{Error, PubSubMode};

/// Settings of a [`RedisBroker`](crate::RedisBroker); build with
/// [`RedisBrokerConfig::new`] and the `with_*` methods.
///
/// ```
/// use std::time::Duration;
/// use xws_redis::{PubSubMode, RedisBrokerConfig};
///
/// let config = RedisBrokerConfig::new("redis://127.0.0.1:6379")
///     .with_channel("chat")
///     .with_mode(PubSubMode::Sharded)
///     .with_queue_capacity(4096)
///     .with_backoff(Duration::from_millis(50), Duration::from_secs(5));
/// assert_eq!(config.channel(), "chat");
/// ```
#[derive(Clone, Debug)]
pub struct RedisBrokerConfig {
    pub(crate) url: String,
    pub(crate) channel: String,
    pub(crate) mode: PubSubMode,
    pub(crate) queue_capacity: usize,
    pub(crate) min_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) response_timeout: Duration,
    pub(crate) health_check_interval: Duration,
}

impl RedisBrokerConfig {
    /// Defaults for the Redis at `url` (`redis://host:port/db`, `rediss://` is
    /// not compiled in): channel `xws`, classic pub/sub, a queue of 1024
    /// publications, reconnect backoff from 100 ms to 5 s with jitter, 5 s
    /// response timeout, a health-check `PING` every 5 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            channel: "xws".to_owned(),
            mode: PubSubMode::Classic,
            queue_capacity: 1024,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            response_timeout: Duration::from_secs(5),
            health_check_interval: Duration::from_secs(5),
        }
    }

    /// The Redis channel every node of one application shares. Nodes on
    /// different channels never see each other's publications.
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }

    /// Classic (`PUBLISH`/`SUBSCRIBE`) or sharded (`SPUBLISH`/`SSUBSCRIBE`,
    /// Redis 7) pub/sub.
    pub fn with_mode(mut self, mode: PubSubMode) -> Self {
        self.mode = mode;
        self
    }

    /// How many encoded publications may wait for the Redis connection; when
    /// full, [`forward`](xws::adapter::Broker::forward) drops the newest and counts it.
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// The first and the longest wait between reconnection attempts; each
    /// failure doubles the wait, plus up to 100 % random jitter so that many
    /// nodes do not reconnect in lockstep.
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max;
        self
    }

    /// How long a Redis command (connect, publish, ping) may take before the
    /// connection is deemed lost.
    pub fn with_response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How often the subscriber connection is probed with `PING`, to notice a
    /// silently dead connection (no TCP reset) within this interval plus the
    /// response timeout.
    pub fn with_health_check_interval(mut self, interval: Duration) -> Self {
        self.health_check_interval = interval;
        self
    }

    /// The Redis URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The shared channel.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The pub/sub flavour.
    pub fn mode(&self) -> PubSubMode {
        self.mode
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: &str| Err(Error::InvalidConfig(reason.to_owned()));
        if self.channel.is_empty() || self.channel.contains(char::is_whitespace) {
            return invalid("the channel must be non-empty and without whitespace");
        }
        if self.queue_capacity == 0 {
            return invalid("the queue capacity must be at least 1");
        }
        if self.min_backoff.is_zero() || self.min_backoff > self.max_backoff {
            return invalid("the backoff needs 0 < min <= max");
        }
        if self.response_timeout.is_zero() || self.health_check_interval.is_zero() {
            return invalid("timeouts and intervals must be positive");
        }
        Ok(())
    }
}
