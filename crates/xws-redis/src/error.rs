//! What can go wrong when setting up a Redis broker.

/// Errors of `xws-redis`. Connection losses at run time are not errors the
/// caller sees: the broker logs them, counts them and reconnects.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is not a Redis URL this build understands.
    #[error("invalid Redis URL {url:?}: {cause}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What the Redis client said (in the message, so not a `source`).
        cause: redis::RedisError,
    },
    /// A setting is out of range.
    #[error("invalid Redis broker configuration: {0}")]
    InvalidConfig(String),
    /// Redis did not answer (see [`check_reachable`](crate::check_reachable)).
    #[error("Redis is not reachable at {url}: {cause}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// Why it failed (in the message, so not a `source`).
        cause: redis::RedisError,
    },
    /// The server lacks a command the chosen mode needs.
    #[error("Redis at {url} does not support {mode:?} pub/sub: {reason}")]
    Unsupported {
        /// The URL tried.
        url: String,
        /// The mode asked for.
        mode: crate::PubSubMode,
        /// What is missing.
        reason: String,
    },
}
