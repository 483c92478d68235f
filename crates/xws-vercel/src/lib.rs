//! # xws-vercel: xws handlers on Vercel functions
//!
//! Vercel's Rust runtime (`vercel_runtime` 2.x) runs one binary per
//! function (`api/NAME.rs`, a `[[bin]]` each) and streams its responses.
//! WebSockets are not offered to Rust functions, so an SSE-capable handler
//! (`Handler::NEEDS` without WebSocket) runs here as event streams:
//!
//! ```no_run
//! # struct Feed;
//! # impl xws::Handler for Feed { type Context = (); const NEEDS: xws::caps::Needs = xws::caps::Needs::SSE; }
//! // api/stream.rs
//! #[tokio::main]
//! async fn main() -> Result<(), vercel_runtime::Error> {
//!     xws_vercel::run(Feed).await
//! }
//! ```
//!
//! Each `GET` is one stream ([`xws_serverless::Session`]): the `upgrade`
//! hook decides, `open` sends the current state first, then the peer's
//! topics flow, with keep-alive comments, until the stream ends cleanly
//! before the function's max duration with a `retry:` hint (the browser's
//! `EventSource` reconnects by itself). A WebSocket upgrade is answered
//! `501` naming the alternative.
//!
//! Instances share nothing, so publications cross them through Redis:
//! set `XWS_REDIS_URL` (a hosted Redis reachable over TCP, e.g. with
//! `rediss://`) on every function of the app, and publish from any other
//! function (an HTTP route, a cron job) through [`hub_from_env`].
//!
//! Streams resume across a stream's end: give [`run_with`] and
//! [`hub_from_env_with`] the same [`xws::stream::StreamConfig`], and the
//! topics it says keep history are kept in that Redis too
//! (`xws_redis::RedisStreams`, shared by every instance). Each publication's
//! position is its event id; the `EventSource` that reconnects names the
//! last one in `Last-Event-ID` and gets what it missed, oldest first, then
//! `event: recovered`, then live ones, on whichever instance it lands.
//!
//! | variable | default | what |
//! |---|---|---|
//! | `XWS_REDIS_URL` | unset: this instance only | the broker |
//! | `XWS_REDIS_CHANNEL` | `xws` | one channel per app |
//! | `XWS_REDIS_SECRET` | required with Redis | seals every envelope (HMAC): the same 32 random bytes on every function |
//! | `XWS_SSE_MAX_DURATION_SECS` | 300 | the function's `maxDuration` (`vercel.json`) |
//! | `XWS_SSE_END_BEFORE_SECS` | 10 | how long before it a stream ends |
//! | `XWS_SSE_KEEP_ALIVE_SECS` | 15 | keep-alive comment interval |
//! | `XWS_SSE_RETRY_MS` | 1000 | the `retry:` hint |
//!
//! Locally, `xws-vercel-local` runs the function binaries behind the same
//! bridge protocol as Vercel's function runtime.

mod request;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderValue, header};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use sync_wrapper::SyncStream;
use vercel_runtime::{Request, Response, ResponseBody, service_fn};
use xws::{Handler, Hub, caps::Vercel};
use xws_serverless::{
    BadVariable, EventStream, FromEnvError, InstanceTopics, Refusal, Session, StreamConfig,
    TokioRuntime,
};

pub use request::request_info;

/// Vercel's default max duration of a function on Fluid compute.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(300);

/// Why the adapter could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A stream setting in the environment is wrong.
    #[error(transparent)]
    Config(#[from] BadVariable),
    /// The broker could not be reached.
    #[error(transparent)]
    Topics(#[from] FromEnvError),
}

/// Streams of one handler in one function instance.
pub struct VercelSse<H: Handler> {
    session: Session<H, TokioRuntime>,
    topics: Arc<InstanceTopics>,
}

impl<H: Handler> Clone for VercelSse<H> {
    fn clone(&self) -> Self {
        Self {
            session: self.session.clone(),
            topics: self.topics.clone(),
        }
    }
}

impl<H: Handler> VercelSse<H> {
    /// `handler`'s streams on `topics`; fails to compile when the handler
    /// needs what Vercel functions lack (WebSocket, hibernation…).
    pub fn new(handler: H, topics: Arc<InstanceTopics>, config: StreamConfig) -> Self {
        Self {
            session: Session::new::<Vercel>(handler, topics.clone(), TokioRuntime, config),
            topics,
        }
    }

    /// `handler`'s streams configured from the environment (see the crate
    /// docs): joins Redis when `XWS_REDIS_URL` is set.
    pub async fn from_env(handler: H) -> Result<Self, Error> {
        Self::from_env_with(handler, xws::stream::StreamConfig::new()).await
    }

    /// [`from_env`](Self::from_env), where the topics `streams` says keep
    /// history resume: kept in the same Redis, each publication's position
    /// is its event id, and a stream reopened with `Last-Event-ID` gets what
    /// it missed first. The functions that publish use the same `streams`
    /// ([`hub_from_env_with`]).
    pub async fn from_env_with(
        handler: H,
        streams: xws::stream::StreamConfig,
    ) -> Result<Self, Error> {
        let config =
            StreamConfig::new(DEFAULT_MAX_DURATION).with_env(|name| std::env::var(name).ok())?;
        let topics = xws_serverless::instance_topics_from_env_with(streams).await?;
        Ok(Self::new(handler, topics, config))
    }

    /// Publishes from this function to the streams of every instance.
    pub fn hub(&self) -> Hub {
        self.topics.hub()
    }

    /// The topics of this instance.
    pub fn topics(&self) -> &Arc<InstanceTopics> {
        &self.topics
    }

    /// Answers `request` with a stream, or with the status that says why not.
    pub async fn stream<B>(&self, request: http::Request<B>) -> Response<ResponseBody> {
        let (parts, _body) = request.into_parts();
        let info = request_info(&parts);
        match self.session.open(&parts.method, info, None).await {
            Ok(stream) => event_stream(stream),
            Err(refusal) => refused(refusal),
        }
    }
}

/// Serves every request of this function as a stream of `handler`: the
/// whole `main` of an `api/*.rs` stream function.
pub async fn run<H: Handler>(handler: H) -> Result<(), vercel_runtime::Error> {
    run_with(handler, xws::stream::StreamConfig::new()).await
}

/// [`run`], where the topics `streams` says keep history resume (see
/// [`VercelSse::from_env_with`]).
pub async fn run_with<H: Handler>(
    handler: H,
    streams: xws::stream::StreamConfig,
) -> Result<(), vercel_runtime::Error> {
    let streams = VercelSse::from_env_with(handler, streams).await?;
    vercel_runtime::run(service_fn(move |request: Request| {
        let streams = streams.clone();
        async move { Ok::<_, vercel_runtime::Error>(streams.stream(request).await) }
    }))
    .await
}

/// A hub for a function that publishes (an HTTP route, a cron job) and
/// holds no stream: joined to Redis when `XWS_REDIS_URL` is set. Create it
/// once per instance, outside the request path.
pub async fn hub_from_env() -> Result<Hub, Error> {
    hub_from_env_with(xws::stream::StreamConfig::new()).await
}

/// [`hub_from_env`], appending publications to the topics `streams` says
/// keep history (the same `streams` as the stream functions'), so they get
/// positions and streams resume after them.
pub async fn hub_from_env_with(streams: xws::stream::StreamConfig) -> Result<Hub, Error> {
    Ok(xws_serverless::instance_topics_from_env_with(streams)
        .await?
        .hub())
}

/// Logs to stderr at `RUST_LOG` or `info`, which Vercel keeps as the
/// function's logs, without the time (Vercel adds its own). Call it first
/// in a function's `main`.
///
/// ```no_run
/// xws_vercel::init_tracing();
/// tracing::info!("function started");
/// ```
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .without_time()
        .init();
}

/// A `text/event-stream` response that no proxy caches or buffers.
fn event_stream<H: Handler>(stream: EventStream<H, TokioRuntime>) -> Response<ResponseBody> {
    let frames = stream.map(|chunk: Bytes| Ok::<_, vercel_runtime::Error>(Frame::data(chunk)));
    let body = BodyExt::boxed(StreamBody::new(SyncStream::new(frames)));
    let mut response = Response::new(ResponseBody(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(xws::sse::CONTENT_TYPE),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn refused(refusal: Refusal) -> Response<ResponseBody> {
    let (parts, body) = refusal.into_response().into_parts();
    Response::from_parts(parts, ResponseBody::from(body))
}
