//! SSE from a Lambda function URL in response-streaming mode
//! (`InvokeMode: RESPONSE_STREAM`). Feature `function-url`.
//!
//! A function URL answers HTTP only, so an SSE-capable handler
//! (`Handler::NEEDS` without WebSocket) runs here as one event stream per
//! invocation ([`xws_serverless::Session`]): `upgrade`, then `open` (its
//! sends, such as the current state, come first), then the peer's topics,
//! keep-alive comments, and a clean end with a `retry:` hint before the
//! invocation's deadline (the function's timeout, at most 15 minutes) or
//! `XWS_SSE_MAX_DURATION_SECS`, whichever is sooner. A WebSocket handshake
//! is answered 501 naming API Gateway WebSocket (xws-aws's [`crate::Xws`]).
//!
//! One environment serves one invocation at a time and shares nothing, so
//! topics cross environments through Redis (`XWS_REDIS_URL`, a Redis the
//! functions reach over TCP; `XWS_REDIS_CHANNEL`, default `xws`). Any other
//! function (a schedule, an HTTP route) publishes to the streams through
//! [`hub_from_env`].
//!
//! Streams resume across a stream's end: give [`run_with`] and
//! [`hub_from_env_with`] the same [`xws::stream::StreamConfig`], and the
//! topics it says keep history are kept in that Redis too
//! (`xws_redis::RedisStreams`, shared by every environment). Each
//! publication's position is its event id; the `EventSource` that
//! reconnects names the last one in `Last-Event-ID` and gets what it
//! missed, oldest first, then `event: recovered`, then live ones.
//!
//! ```no_run
//! # struct Feed;
//! # impl xws::Handler for Feed { type Context = (); const NEEDS: xws::caps::Needs = xws::caps::Needs::SSE; }
//! #[tokio::main]
//! async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
//!     xws_aws::function_url::run(Feed).await
//! }
//! ```

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderValue, header};
use http_body::Frame;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use lambda_http::{Request, RequestExt, request::RequestContext};
use xws::{Handler, Hub, RequestInfo, caps::AwsLambdaUrl};
use xws_serverless::{
    BadVariable, EventStream, FromEnvError, InstanceTopics, Refusal, Session, StreamConfig,
    TokioRuntime,
};

/// A function URL's longest invocation: 15 minutes.
pub const MAX_DURATION: Duration = Duration::from_secs(15 * 60);

/// The body of a function URL's answer.
pub type StreamingBody = UnsyncBoxBody<Bytes, Infallible>;

/// Why the streams could not start.
#[derive(Debug, thiserror::Error)]
pub enum FunctionUrlError {
    /// A stream setting in the environment is wrong.
    #[error(transparent)]
    Config(#[from] BadVariable),
    /// The broker could not be reached.
    #[error(transparent)]
    Topics(#[from] FromEnvError),
}

/// Streams of one handler in one Lambda environment.
pub struct FunctionUrlSse<H: Handler> {
    session: Session<H, TokioRuntime>,
    topics: Arc<InstanceTopics>,
}

impl<H: Handler> Clone for FunctionUrlSse<H> {
    fn clone(&self) -> Self {
        Self {
            session: self.session.clone(),
            topics: self.topics.clone(),
        }
    }
}

impl<H: Handler> FunctionUrlSse<H> {
    /// `handler`'s streams on `topics`; fails to compile when the handler
    /// needs what a function URL lacks (WebSocket, hibernation…).
    pub fn new(handler: H, topics: Arc<InstanceTopics>, config: StreamConfig) -> Self {
        Self {
            session: Session::new::<AwsLambdaUrl>(handler, topics.clone(), TokioRuntime, config),
            topics,
        }
    }

    /// `handler`'s streams configured from the environment (see the module
    /// docs and [`StreamConfig::with_env`]).
    pub async fn from_env(handler: H) -> Result<Self, FunctionUrlError> {
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
    ) -> Result<Self, FunctionUrlError> {
        let config = StreamConfig::new(MAX_DURATION).with_env(|name| std::env::var(name).ok())?;
        let topics = xws_serverless::instance_topics_from_env_with(streams).await?;
        Ok(Self::new(handler, topics, config))
    }

    /// Publishes from this function to the streams of every environment.
    pub fn hub(&self) -> Hub {
        self.topics.hub()
    }

    /// Answers one invocation: a stream, or the status that says why not.
    pub async fn stream(&self, request: Request) -> http::Response<StreamingBody> {
        let remaining = request.lambda_context_ref().and_then(|context| {
            SystemTime::UNIX_EPOCH
                .checked_add(Duration::from_millis(context.deadline))?
                .duration_since(SystemTime::now())
                .ok()
        });
        let info = request_info(&request);
        match self.session.open(request.method(), info, remaining).await {
            Ok(stream) => event_stream(stream),
            Err(refusal) => refused(refusal),
        }
    }
}

/// Serves every invocation of this function as a stream of `handler`: the
/// whole `main` of a response-streaming function.
pub async fn run<H: Handler>(handler: H) -> Result<(), lambda_runtime::Error> {
    run_with(handler, xws::stream::StreamConfig::new()).await
}

/// [`run`], where the topics `streams` says keep history resume (see
/// [`FunctionUrlSse::from_env_with`]).
pub async fn run_with<H: Handler>(
    handler: H,
    streams: xws::stream::StreamConfig,
) -> Result<(), lambda_runtime::Error> {
    // Boxed: the runtime's and Redis's futures nest deeply, and a caller's
    // `main` would otherwise need a higher `recursion_limit`.
    let streams = Box::pin(FunctionUrlSse::from_env_with(handler, streams)).await?;
    lambda_http::run_with_streaming_response(lambda_http::service_fn(move |request| {
        let streams = streams.clone();
        let answer: xws::BoxFuture<'static, _> =
            Box::pin(async move { Ok::<_, lambda_http::Error>(streams.stream(request).await) });
        answer
    }))
    .await
}

/// A hub for a function that publishes to the streams (a schedule, an HTTP
/// route) and holds none: joined to Redis when `XWS_REDIS_URL` is set. Create
/// it once per environment, outside the handler.
pub async fn hub_from_env() -> Result<Hub, FunctionUrlError> {
    hub_from_env_with(xws::stream::StreamConfig::new()).await
}

/// [`hub_from_env`], appending publications to the topics `streams` says
/// keep history (the same `streams` as the stream function's), so they get
/// positions and streams resume after them.
pub async fn hub_from_env_with(
    streams: xws::stream::StreamConfig,
) -> Result<Hub, FunctionUrlError> {
    Ok(xws_serverless::instance_topics_from_env_with(streams)
        .await?
        .hub())
}

/// The invocation as [`RequestInfo`]: path, query and headers of the
/// function URL event, the client's address from
/// `requestContext.http.sourceIp`.
pub fn request_info(request: &Request) -> RequestInfo {
    let mut info = RequestInfo::new(request.uri().path(), request.uri().query());
    info.headers = request.headers().clone();
    let source = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.as_deref(),
        _ => None,
    };
    if let Some(ip) = source.and_then(|ip| ip.parse::<IpAddr>().ok()) {
        info.remote_addr = Some(SocketAddr::new(ip, 0));
    }
    info
}

fn event_stream<H: Handler>(stream: EventStream<H, TokioRuntime>) -> http::Response<StreamingBody> {
    let frames = stream.map(|chunk| Ok::<_, Infallible>(Frame::data(chunk)));
    let mut response = http::Response::new(UnsyncBoxBody::new(StreamBody::new(frames)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(xws::sse::CONTENT_TYPE),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn refused(refusal: Refusal) -> http::Response<StreamingBody> {
    let (parts, body) = refusal.into_response().into_parts();
    http::Response::from_parts(parts, Full::new(Bytes::from(body)).boxed_unsync())
}
