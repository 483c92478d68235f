//! # xws-serverless: SSE streams on serverless functions
//!
//! The part of an xws adapter that is the same on every function platform
//! without WebSockets (Vercel, an AWS Lambda function URL, a plain
//! Cloudflare Worker): an SSE-capable [`xws::Handler`] runs unchanged, one
//! stream per invocation.
//!
//! - [`Session`] opens a stream: `upgrade` (a reject answers its status),
//!   `?topic=` subscriptions, `open` (what it sends, such as the current
//!   state, comes first), then the topics' publications. A WebSocket upgrade
//!   gets 501 naming the alternative ([`Refusal`]).
//! - [`EventStream`] is the response body: keep-alive comments, and an end
//!   before the platform's limit ([`StreamConfig`]) with a `retry:` hint, or
//!   an `event: close` when the handler closes the peer.
//! - [`InstanceTopics`] is one process's topic table; with a
//!   [`FunctionBroker`] (Redis, feature `redis`) a publication from any
//!   invocation reaches the streams of every instance, and its
//!   [`hub`](InstanceTopics::hub) returns only once the broker has the
//!   publication, so a publishing function may end right after. Topics
//!   that keep history ([`InstanceTopics::with_history`], a store every
//!   instance shares: Redis) give each publication its position as the SSE
//!   `id:`, and a stream reopened with `Last-Event-ID` gets what it missed,
//!   then `event: recovered`, then live ones. Their appends wait in one
//!   bounded queue ([`InstanceTopics::DEFAULT_APPEND_CAPACITY`]): with the
//!   store slow or away, a publication past it is refused at once with
//!   `Error::QueueFull` and counted ([`HistoryStats::overflowed`]), never
//!   held without bound nor lost unsaid.
//!
//! The adapters: `xws-vercel`, `xws-aws` (feature `function-url`) and
//! `xws-cloudflare` (a plain Worker, with a Durable Object as broker).

mod config;
#[cfg(not(target_arch = "wasm32"))]
mod history;
#[cfg(not(target_arch = "wasm32"))]
mod instance;
mod queue;
mod refusal;
mod runtime;
mod session;
mod stream;
mod topics;

#[cfg(feature = "redis")]
mod from_env;

pub use config::{BadVariable, StreamConfig};
#[cfg(feature = "redis")]
pub use from_env::{FromEnvError, instance_topics_from_env, instance_topics_from_env_with};
#[cfg(not(target_arch = "wasm32"))]
pub use history::HistoryStats;
#[cfg(not(target_arch = "wasm32"))]
pub use instance::{FunctionBroker, InstanceTopics};
pub use queue::{End, EventQueue, message_event, recovered_event};
pub use refusal::Refusal;
pub use runtime::Runtime;
#[cfg(feature = "tokio")]
pub use runtime::TokioRuntime;
pub use session::Session;
pub use stream::EventStream;
pub use topics::StreamTopics;
