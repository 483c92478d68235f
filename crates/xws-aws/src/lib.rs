//! # xws-aws: xws handlers on AWS Lambda behind an API Gateway WebSocket API
//!
//! The same [`xws::Handler`] that runs on Tokio runs as a Lambda function:
//!
//! | API Gateway route | hook | notes |
//! |---|---|---|
//! | `$connect` | `upgrade`, then `open` | a [`xws::Reject`] answers its status, so API Gateway refuses the connection |
//! | `$default` | `message` | the peer (context, topics) is read back from DynamoDB |
//! | `$disconnect` | `close` | the connection and its subscriptions are deleted |
//!
//! Connections and topics live in one DynamoDB table ([`table`] documents
//! its design); sends go through `PostToConnection` ([`Gateway`]); a publish
//! queries the topic and fans out with bounded concurrency ([`AwsHub`]).
//! Messages sent from `open` are delivered right after `$connect` returns by
//! an asynchronous self-invocation ([`pending`]).
//!
//! ```no_run
//! # struct Chat; impl xws::Handler for Chat { type Context = (); }
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     xws_aws::run(Chat).await
//! }
//! ```
//!
//! Other functions (an HTTP route, a scheduled EventBridge rule) publish
//! through [`Aws::hub`]; feature `http` adds helpers for them (`function`).
//!
//! Feature `function-url` serves an SSE-capable handler from a function URL
//! in response-streaming mode instead (`function_url`), topics crossing
//! environments through Redis.

mod backend;
mod config;
mod entry;
mod error;
mod event;
mod fanout;
#[cfg(feature = "http")]
pub mod function;
#[cfg(feature = "function-url")]
pub mod function_url;
mod gateway;
mod hub;
mod metrics;
pub mod pending;
pub mod table;
mod transport;

pub use backend::Aws;
pub use config::{AwsConfig, MAX_CONNECTION_DURATION, MAX_MESSAGE_BYTES};
pub use entry::{App, run};
pub use error::AwsError;
pub use gateway::{Gateway, Reach, check_size};
pub use hub::AwsHub;
pub use metrics::{Metrics, MetricsSnapshot};
pub use table::{ConnectionItem, Table};

/// Re-exported so functions need no direct dependency.
pub use lambda_runtime;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
