//! # xws-aws: xws handlers on AWS Lambda behind an API Gateway WebSocket API
//!
//! The same [`xws::Handler`] that runs on Tokio runs as a Lambda function:
//!
//! | API Gateway route | hook | notes |
//! |---|---|---|
//! | `$connect` | `upgrade`, then `open` | a [`xws::Reject`] answers its status, so API Gateway refuses the connection |
//! | `$default` | `message` | the peer (context, topics) and its rate limiter are read back from DynamoDB |
//! | `$disconnect` | `close` | the connection and its subscriptions are deleted |
//! | `ping` (optional) | none | `{"xws":"ping"}` answered `{"xws":"pong"}` by a MOCK integration, without invoking Lambda (see the examples' `template.yaml`) |
//!
//! Each event runs one step of the core's [`xws::adapter::Session`], so
//! the rules around the hooks are those of every adapter: a message over
//! [`xws::Limits::max_message_size`] closes with 1009, a flood with 1008
//! after the tolerated refusals, an `error` or a panic in a hook with 1011,
//! and the app ping is answered without the handler when it reaches
//! Lambda. API Gateway cannot send a close frame with a code, so a close
//! is a close notice (`{"xws":"close","code":N,"reason":…}`,
//! [`xws::client::close_notice`]) then `DeleteConnection`; `xws.js` and
//! `xws-client` report the notice's code. API Gateway closes a connection
//! that sends a binary frame (1003), so binary messages travel as binary
//! notices ([`xws::client::binary_notice`]): the session hands the handler
//! the binary message, and [`to_wire`] encodes what the handler sends.
//!
//! Connections and topics live in one DynamoDB table ([`registry`]
//! documents its design); sends go through `PostToConnection`
//! ([`ManagementApi`]); a publish, from a hook or from the [`xws::Hub`],
//! queries the topic and fans out with bounded concurrency.
//! Messages sent from `open` are delivered right after `$connect` returns by
//! an asynchronous self-invocation ([`pending`]).
//!
//! What one message costs: one `GetItem` (the connection), at most one
//! `UpdateItem` (the peer if its context or topics changed, the rate
//! limiter's state whenever a rate limit is set, together), plus what the
//! hook does (a publish: one `Query` and one post per subscriber).
//!
//! ```no_run
//! # struct Chat; impl xws::Handler for Chat { type Context = (); }
//! #[tokio::main]
//! async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
//!     xws_aws::serve(xws_aws::Xws::from_env(Chat).await?).await
//! }
//! ```
//!
//! History, recovery and presence ([`xws::stream`]): with
//! [`Config::with_streams`], topics keep their history in the same table
//! ([`DynamoStreams`]: an atomic counter per topic for offsets, an item per
//! publication with a TTL, an item per presence member). A publication to
//! such a topic costs two more writes (the counter's `UpdateItem`, the
//! publication's `PutItem`); a recovering subscription goes live through
//! one `TransactWriteItems` once its replay is posted, so each publication
//! reaches it once. What is guaranteed: `crates/xws/src/stream/guarantees.md`.
//!
//! Other functions (an HTTP route, a scheduled EventBridge rule) publish
//! through [`Aws::hub`]; feature `http` adds helpers for them (`function`).
//!
//! Feature `function-url` serves an SSE-capable handler from a function URL
//! in response-streaming mode instead (`function_url`), topics crossing
//! environments through Redis.

mod admin;
mod app;
mod backend;
mod config;
mod error;
mod event;
#[cfg(feature = "http")]
pub mod function;
#[cfg(feature = "function-url")]
pub mod function_url;
mod hub;
mod management;
mod metrics;
pub mod pending;
mod publish;
pub mod registry;
mod stream_peer;
pub mod streams;
mod transport;

pub use app::{Xws, serve};
pub use backend::{Aws, sdk_config, sdk_config_loader};
pub use config::{Config, MAX_CONNECTION_DURATION, MAX_MESSAGE_BYTES};
pub use error::AwsError;
pub use hub::AwsHub;
pub use management::{ManagementApi, Reach, to_wire};
pub use metrics::{Metrics, MetricsOutput, MetricsSnapshot};
pub use registry::{ConnectionItem, Registry};
pub use streams::DynamoStreams;

/// Re-exported so functions need no direct dependency.
pub use lambda_runtime;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
