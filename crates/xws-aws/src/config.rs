//! Settings of the adapter, read from the environment Lambda gives a function.

use std::{env, time::Duration};
use xws::{Limits, OriginPolicy, RateLimit, stream::StreamConfig};

use crate::AwsError;

/// The API Gateway limit on one message (and one `@connections` post): 128 KB.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;

/// API Gateway closes every WebSocket after 2 hours; items expire then.
pub const MAX_CONNECTION_DURATION: Duration = Duration::from_secs(2 * 60 * 60);

/// Everything configurable about an [`Xws`](crate::Xws) function, with
/// public fields as `xws_tokio::Config`.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `XWS_TABLE` | DynamoDB table (see [`crate::registry`]) | required |
/// | `XWS_APIGW_ENDPOINT` | management endpoint, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod` | from the event (`https://{domainName}/{stage}`); required for a [`crate::AwsHub`] |
/// | `XWS_SELF_FUNCTION` | function invoked to deliver `open`-hook messages | `AWS_LAMBDA_FUNCTION_NAME` |
/// | `XWS_FANOUT_CONCURRENCY` | posts in flight per publish | 32 |
/// | `XWS_MAX_MESSAGE_BYTES` | [`Limits::max_message_size`] | 65,536 |
/// | `XWS_RATE_LIMIT` | [`Limits::rate`]: messages per second per peer ([`RateLimit::per_second`]), or `off` | 1,000 |
/// | `XWS_RATE_BURST` | [`RateLimit::burst`]: messages accepted at once | `XWS_RATE_LIMIT` |
/// | `XWS_ALLOWED_ORIGINS` | [`Config::origins`]: comma-separated origins ([`OriginPolicy::parse`]) | any |
/// | `XWS_MAX_CONNECTIONS` | [`Limits::max_connections`], counted in the table (503 over it) | not counted |
/// | `XWS_MAX_CONNECTIONS_PER_IP` | [`Limits::max_connections_per_ip`], per source address, IPv6 by /64 (429 over it) | not counted |
/// | `XWS_MAX_TOPICS_PER_PEER` | [`Limits::max_topics_per_peer`] | 256 |
///
/// `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL_LAMBDA` point the SDK at
/// local services (moto, the `xws-aws-local` emulator).
#[derive(Clone, Debug)]
pub struct Config {
    /// The DynamoDB table.
    pub table: String,
    /// Overrides the management endpoint derived from events.
    pub endpoint: Option<String>,
    /// The function to invoke for delivering `open`-hook messages.
    pub self_function: Option<String>,
    /// Posts in flight per publish.
    pub fanout_concurrency: usize,
    /// The limits every peer gets. A Lambda function enforces the message
    /// size, the rate (its state stored with the peer), the topics per peer
    /// and the connection limits, counted in the table at `$connect` and
    /// `$disconnect` ([`crate::registry`]). `max_connections` is
    /// `usize::MAX` here unless set: counting costs two writes per
    /// connection, and API Gateway's account quotas apply anyway. The
    /// heartbeat and the send queue are API Gateway's.
    pub limits: Limits,
    /// How long a `410 Gone` may be a connection still in its `$connect`
    /// (not yet open) rather than a stale one.
    pub connect_grace: Duration,
    /// How long `open`-hook delivery retries while the connection is not yet
    /// open (`410` right after `$connect`).
    pub pending_retry_for: Duration,
    /// Which `Origin` headers may connect, as `xws_tokio::Config::origins`:
    /// `$connect` answers 403 to the others before the `upgrade` hook runs.
    pub origins: OriginPolicy,
    /// Which topics keep history and presence ([`xws::stream`]), kept in
    /// the connections table ([`DynamoStreams`](crate::DynamoStreams)).
    /// Empty by default: a peer's stream methods answer
    /// [`xws::Error::Unsupported`].
    pub streams: StreamConfig,
}

impl Config {
    /// A configuration for `table` with defaults.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            endpoint: None,
            self_function: None,
            fanout_concurrency: 32,
            limits: Limits {
                // Not counted unless set (see `limits`).
                max_connections: usize::MAX,
                ..Limits::default()
            },
            connect_grace: Duration::from_secs(30),
            pending_retry_for: Duration::from_secs(5),
            origins: OriginPolicy::Any,
            streams: StreamConfig::new(),
        }
    }

    /// Keeps history and presence for the topics `streams` names.
    pub fn with_streams(mut self, streams: StreamConfig) -> Self {
        self.streams = streams;
        self
    }

    /// Reads the variables in the table above.
    pub fn from_env() -> Result<Self, AwsError> {
        let table = non_empty("XWS_TABLE").ok_or(AwsError::MissingVariable {
            name: "XWS_TABLE",
            meaning: "the DynamoDB table",
        })?;
        let mut config = Self::new(table);
        config.endpoint = non_empty("XWS_APIGW_ENDPOINT");
        config.self_function =
            non_empty("XWS_SELF_FUNCTION").or_else(|| non_empty("AWS_LAMBDA_FUNCTION_NAME"));
        if let Some(n) = parsed("XWS_FANOUT_CONCURRENCY")? {
            config.fanout_concurrency = n.max(1);
        }
        if let Some(n) = parsed("XWS_MAX_MESSAGE_BYTES")? {
            config.limits.max_message_size = n;
        }
        match non_empty("XWS_RATE_LIMIT").as_deref() {
            None => {}
            Some("off") => config.limits.rate = None,
            Some(_) => {
                let n = parsed("XWS_RATE_LIMIT")?.unwrap_or_default();
                let n = u32::try_from(n).unwrap_or(u32::MAX);
                config.limits.rate = Some(RateLimit::per_second(n));
            }
        }
        if let Some(n) = parsed("XWS_MAX_CONNECTIONS")? {
            config.limits.max_connections = n;
        }
        if let Some(n) = parsed("XWS_MAX_CONNECTIONS_PER_IP")? {
            config.limits.max_connections_per_ip = Some(n);
        }
        if let Some(n) = parsed("XWS_MAX_TOPICS_PER_PEER")? {
            config.limits.max_topics_per_peer = n;
        }
        if let Some(list) = non_empty("XWS_ALLOWED_ORIGINS") {
            config.origins = OriginPolicy::parse(&list);
        }
        if let (Some(rate), Some(burst)) = (&mut config.limits.rate, parsed("XWS_RATE_BURST")?) {
            rate.burst = u32::try_from(burst).unwrap_or(u32::MAX);
        }
        Ok(config)
    }
}

fn non_empty(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.is_empty())
}

fn parsed(name: &'static str) -> Result<Option<usize>, AwsError> {
    non_empty(name)
        .map(|value| {
            value
                .parse()
                .map_err(|_| AwsError::InvalidVariable { name, value })
        })
        .transpose()
}
