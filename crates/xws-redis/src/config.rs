//! How a [`RedisBroker`](crate::RedisBroker) reaches Redis and behaves when it cannot.

use std::{fmt, time::Duration};

use crate::{Error, PubSubMode, seal::MIN_SECRET_LEN};

/// The environment variable [`RedisBrokerConfig::new`] reads the shared
/// secret from.
pub const SECRET_ENV: &str = "XWS_REDIS_SECRET";
/// The environment variable [`RedisBrokerConfig::new`] reads a further
/// accepted secret from (during a rotation).
pub const ACCEPTED_SECRET_ENV: &str = "XWS_REDIS_ACCEPTED_SECRET";

/// Key material: never printed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub(crate) Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// Settings of a [`RedisBroker`](crate::RedisBroker); build with
/// [`RedisBrokerConfig::new`] and the `with_*` methods.
///
/// ```
/// use std::time::Duration;
/// use xws_redis::{PubSubMode, RedisBrokerConfig};
///
/// let config = RedisBrokerConfig::new("redis://127.0.0.1:6379")
///     .with_secret("the same 32 random bytes on every node")
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
    pub(crate) secret: Option<Secret>,
    pub(crate) accepted_secrets: Vec<Secret>,
    pub(crate) max_envelope_size: usize,
    pub(crate) receive_capacity: usize,
}

impl RedisBrokerConfig {
    /// Defaults for the Redis at `url` (`redis://host:port/db`, `rediss://` is
    /// not compiled in): channel `xws`, classic pub/sub, a queue of 1024
    /// publications, reconnect backoff from 100 ms to 5 s with jitter, 5 s
    /// response timeout, a health-check `PING` every 5 s, envelopes of at
    /// most 1 MiB, 1024 received envelopes waiting at most.
    ///
    /// The shared secret that seals envelopes is taken from the environment
    /// variable `XWS_REDIS_SECRET` when it is set (and a further accepted
    /// one from `XWS_REDIS_ACCEPTED_SECRET`); [`with_secret`](Self::with_secret)
    /// sets it in code. A broker without one does not start.
    pub fn new(url: impl Into<String>) -> Self {
        let from_env = |name| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.is_empty())
                .map(|value| Secret(value.into_bytes()))
        };
        Self {
            secret: from_env(SECRET_ENV),
            accepted_secrets: from_env(ACCEPTED_SECRET_ENV).into_iter().collect(),
            max_envelope_size: 1024 * 1024,
            receive_capacity: 1024,
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

    /// The secret every node of the channel shares: envelopes are sealed
    /// with it (HMAC-SHA256), and a node delivers only what a secret it
    /// holds sealed; the others are refused and counted
    /// ([`BrokerStats::refused`](crate::BrokerStats::refused)). At least 16
    /// bytes; use 32 random ones (`openssl rand -hex 32`).
    pub fn with_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.secret = Some(Secret(secret.into()));
        self
    }

    /// A further secret whose envelopes are accepted, never used to seal:
    /// rotating without downtime takes three deployments. 1: every node
    /// accepts the new secret (`with_accepted_secret(new)`), 2: every node
    /// seals with the new one and accepts the old (`with_secret(new)`,
    /// `with_accepted_secret(old)`), 3: the old one is dropped.
    pub fn with_accepted_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        self.accepted_secrets.push(Secret(secret.into()));
        self
    }

    /// The largest encoded envelope (the message and its target) a node
    /// publishes or accepts, in bytes; a larger one is dropped and counted
    /// on either side. Redis itself holds a slow subscriber's backlog up to
    /// its `client-output-buffer-limit pubsub` (32 MiB by default).
    pub fn with_max_envelope_size(mut self, bytes: usize) -> Self {
        self.max_envelope_size = bytes;
        self
    }

    /// How many received envelopes may wait for the adapter; when full,
    /// the newest are dropped and counted
    /// ([`BrokerStats::overflowed`](crate::BrokerStats::overflowed)), so a
    /// flood on the channel cannot grow a node's memory without bound.
    pub fn with_receive_capacity(mut self, capacity: usize) -> Self {
        self.receive_capacity = capacity;
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

    /// The seal of this channel; call after [`validate`](Self::validate).
    pub(crate) fn seal(&self) -> crate::EnvelopeSeal {
        let secret = self.secret.as_ref().map_or(&[][..], |s| &s.0);
        let accepted: Vec<&[u8]> = self.accepted_secrets.iter().map(|s| &s.0[..]).collect();
        crate::EnvelopeSeal::new(&self.channel, secret, &accepted)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let invalid = |reason: &str| Err(Error::InvalidConfig(reason.to_owned()));
        if self.channel.is_empty() || self.channel.contains(char::is_whitespace) {
            return invalid("the channel must be non-empty and without whitespace");
        }
        if self.queue_capacity == 0 || self.receive_capacity == 0 {
            return invalid("the queue and receive capacities must be at least 1");
        }
        if self.max_envelope_size == 0 {
            return invalid("the envelope size limit must be at least 1 byte");
        }
        let Some(secret) = &self.secret else {
            return invalid(
                "no shared secret: set XWS_REDIS_SECRET (the same 32 random bytes on every \
                 node) or call with_secret; without one, anyone who can publish to the \
                 channel could deliver to any peer",
            );
        };
        if std::iter::once(secret)
            .chain(&self.accepted_secrets)
            .any(|secret| secret.0.len() < MIN_SECRET_LEN)
        {
            return Err(Error::InvalidConfig(format!(
                "a secret must be at least {MIN_SECRET_LEN} bytes long"
            )));
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
