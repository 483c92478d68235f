//! Settings of the adapter, read from the environment Lambda gives a function.

use std::{env, time::Duration};

use crate::AwsError;

/// The API Gateway limit on one message (and one `@connections` post): 128 KB.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;

/// API Gateway closes every WebSocket after 2 hours; items expire then.
pub const MAX_CONNECTION_DURATION: Duration = Duration::from_secs(2 * 60 * 60);

/// How the adapter reaches its table, the gateway and itself.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `XWS_TABLE` | DynamoDB table (see [`crate::table`]) | required |
/// | `XWS_APIGW_ENDPOINT` | management endpoint, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod` | from the event (`https://{domainName}/{stage}`); required for a [`crate::AwsHub`] |
/// | `XWS_SELF_FUNCTION` | function invoked to deliver `open`-hook messages | `AWS_LAMBDA_FUNCTION_NAME` |
/// | `XWS_FANOUT_CONCURRENCY` | posts in flight per publish | 32 |
/// | `XWS_MAX_MESSAGE_BYTES` | largest incoming message handed to the handler | 65,536 (as `xws::Limits`) |
///
/// `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL_LAMBDA` point the SDK at
/// local services (moto, the `xws-aws-local` emulator).
#[derive(Clone, Debug)]
pub struct AwsConfig {
    /// The DynamoDB table.
    pub table: String,
    /// Overrides the management endpoint derived from events.
    pub endpoint: Option<String>,
    /// The function to invoke for delivering `open`-hook messages.
    pub self_function: Option<String>,
    /// Posts in flight per publish.
    pub fanout_concurrency: usize,
    /// Largest incoming message handed to the handler; larger ones close the
    /// connection.
    pub max_message_bytes: usize,
    /// How long a `410 Gone` may be a connection still in its `$connect`
    /// (not yet open) rather than a stale one.
    pub connect_grace: Duration,
    /// How long `open`-hook delivery retries while the connection is not yet
    /// open (`410` right after `$connect`).
    pub pending_retry_for: Duration,
}

impl AwsConfig {
    /// A configuration for `table` with defaults.
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            endpoint: None,
            self_function: None,
            fanout_concurrency: 32,
            max_message_bytes: xws::Limits::default().max_message_size,
            connect_grace: Duration::from_secs(30),
            pending_retry_for: Duration::from_secs(5),
        }
    }

    /// Reads the variables in the table above.
    pub fn from_env() -> Result<Self, AwsError> {
        let table = env::var("XWS_TABLE")
            .map_err(|_| AwsError::Config("XWS_TABLE (the DynamoDB table) is not set".into()))?;
        let mut config = Self::new(table);
        config.endpoint = non_empty("XWS_APIGW_ENDPOINT");
        config.self_function =
            non_empty("XWS_SELF_FUNCTION").or_else(|| non_empty("AWS_LAMBDA_FUNCTION_NAME"));
        if let Some(n) = parsed("XWS_FANOUT_CONCURRENCY")? {
            config.fanout_concurrency = n.max(1);
        }
        if let Some(n) = parsed("XWS_MAX_MESSAGE_BYTES")? {
            config.max_message_bytes = n;
        }
        Ok(config)
    }
}

fn non_empty(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.is_empty())
}

fn parsed(name: &str) -> Result<Option<usize>, AwsError> {
    non_empty(name)
        .map(|v| {
            v.parse()
                .map_err(|_| AwsError::Config(format!("{name}={v:?} is not a number")))
        })
        .transpose()
}
