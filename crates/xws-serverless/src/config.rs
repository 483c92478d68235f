//! How long a stream lasts and how it keeps itself alive.

use std::time::Duration;

/// The timing of every stream a function serves.
///
/// A function's response cannot outlive the platform's limit (Vercel's max
/// duration, a Lambda's timeout), so each stream ends cleanly
/// [`end_before`](Self::end_before) that limit, after telling the client to
/// come back in [`retry`](Self::retry); `EventSource` reconnects on its
/// own, with `Last-Event-ID`.
///
/// ```
/// use std::time::Duration;
/// use xws_serverless::StreamConfig;
/// let config = StreamConfig::new(Duration::from_secs(300));
/// // Ends 10 s before a 300 s limit.
/// assert_eq!(config.lifetime(None), Duration::from_secs(290));
/// // A shorter remaining time (a Lambda's deadline) wins.
/// assert_eq!(config.lifetime(Some(Duration::from_secs(60))), Duration::from_secs(50));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// The platform's limit on one response.
    pub max_duration: Duration,
    /// How long before the limit a stream ends.
    pub end_before: Duration,
    /// How often an idle stream sends a keep-alive comment, so proxies and
    /// clients do not take silence for a dead connection.
    pub keep_alive: Duration,
    /// The `retry:` hint: how long `EventSource` waits before reconnecting.
    pub retry: Duration,
    /// Events a stream may hold for a client that reads slower than they
    /// come; beyond it the stream ends (the client reconnects and resumes).
    pub queue_capacity: usize,
    /// Topics one stream may name ([`xws::Limits::max_topics_per_peer`]);
    /// a request naming more is answered 400.
    pub max_topics: usize,
}

impl StreamConfig {
    /// Streams bounded by a platform limit of `max_duration`, with the
    /// defaults: end 10 s before it, a keep-alive every 15 s, retry after
    /// 1 s, at most 1024 queued events.
    pub const fn new(max_duration: Duration) -> Self {
        Self {
            max_duration,
            end_before: Duration::from_secs(10),
            keep_alive: Duration::from_secs(15),
            retry: Duration::from_secs(1),
            queue_capacity: 1024,
            max_topics: xws::Limits::DEFAULT_MAX_TOPICS_PER_PEER,
        }
    }

    /// `self`, with what the environment overrides: `XWS_SSE_MAX_DURATION_SECS`
    /// (set it to the `maxDuration` of `vercel.json` or the function's
    /// timeout when they differ from the platform default),
    /// `XWS_SSE_END_BEFORE_SECS`, `XWS_SSE_KEEP_ALIVE_SECS`, `XWS_SSE_RETRY_MS`.
    /// A variable that is not a whole number is a [`BadVariable`] error.
    pub fn with_env(self, read: impl Fn(&str) -> Option<String>) -> Result<Self, BadVariable> {
        let number = |name: &'static str| -> Result<Option<u64>, BadVariable> {
            read(name)
                .map(|value| {
                    value
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| BadVariable { name, value })
                })
                .transpose()
        };
        let mut config = self;
        if let Some(secs) = number("XWS_SSE_MAX_DURATION_SECS")? {
            config.max_duration = Duration::from_secs(secs);
        }
        if let Some(secs) = number("XWS_SSE_END_BEFORE_SECS")? {
            config.end_before = Duration::from_secs(secs);
        }
        if let Some(secs) = number("XWS_SSE_KEEP_ALIVE_SECS")? {
            config.keep_alive = Duration::from_secs(secs.max(1));
        }
        if let Some(ms) = number("XWS_SSE_RETRY_MS")? {
            config.retry = Duration::from_millis(ms);
        }
        Ok(config)
    }

    /// How long one stream may last: [`end_before`](Self::end_before) short
    /// of the platform limit, or of `remaining` (the time the invocation has
    /// left, where the platform tells it) when that is sooner. A margin as
    /// long as the limit itself halves the limit instead of ending at once.
    pub fn lifetime(&self, remaining: Option<Duration>) -> Duration {
        let limit = remaining.map_or(self.max_duration, |r| r.min(self.max_duration));
        if self.end_before < limit {
            limit - self.end_before
        } else {
            limit / 2
        }
    }
}

/// An environment variable that should hold a whole number.
#[derive(Debug, thiserror::Error)]
#[error("{name} must be a whole number, got {value:?}")]
pub struct BadVariable {
    /// The variable.
    pub name: &'static str,
    /// What it held.
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_overrides_and_bad_numbers_are_named() {
        let config = StreamConfig::new(Duration::from_secs(300))
            .with_env(|name| match name {
                "XWS_SSE_MAX_DURATION_SECS" => Some("6".into()),
                "XWS_SSE_END_BEFORE_SECS" => Some("1".into()),
                "XWS_SSE_RETRY_MS" => Some("250".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.lifetime(None), Duration::from_secs(5));
        assert_eq!(config.retry, Duration::from_millis(250));
        let error = StreamConfig::new(Duration::from_secs(1))
            .with_env(|name| (name == "XWS_SSE_KEEP_ALIVE_SECS").then(|| "soon".into()))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "XWS_SSE_KEEP_ALIVE_SECS must be a whole number, got \"soon\""
        );
    }

    #[test]
    fn a_margin_longer_than_the_limit_halves_it() {
        let config = StreamConfig::new(Duration::from_secs(8));
        assert_eq!(config.lifetime(None), Duration::from_secs(4));
    }
}
