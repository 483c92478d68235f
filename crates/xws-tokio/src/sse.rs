//! Topics as Server-Sent Events.

use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::Frame as BodyFrame;
use http_body_util::BodyExt;
use std::{
    convert::Infallible,
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};
use tokio::{sync::mpsc, time::Interval};
use tokio_util::sync::WaitForCancellationFutureOwned;
use xws::{Error, Handler, Peer, PeerId, Topic, Upgrade, adapter::SubscribePolicy, sse};

use crate::{
    Body, Xws,
    admission::Permit,
    handshake::{self, plain, rejection},
    link::{Frame, LinkKind, PeerLink},
    registry::Registry,
    transport::TokioTransport,
};

/// Streams the topics named in the query (`?topic=room:1&topic=news`) as
/// Server-Sent Events: every publication arrives as `event: message` (or
/// `event: binary`, base64) with an `id:`.
///
/// The handler's `upgrade` hook authenticates the request as for a
/// WebSocket, and `authorize_subscribe` must allow every topic (403
/// otherwise). An SSE stream is not listed among peers and does not receive
/// broadcasts: it listens to its topics only.
pub struct SseService<H: Handler> {
    xws: Xws<H>,
}

impl<H: Handler> Clone for SseService<H> {
    fn clone(&self) -> Self {
        Self {
            xws: self.xws.clone(),
        }
    }
}

impl<H: Handler> SseService<H> {
    pub(crate) fn new(xws: Xws<H>) -> Self {
        Self { xws }
    }
}

impl<H: Handler, B: Send + 'static> tower_service::Service<Request<B>> for SseService<H> {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let xws = self.xws.clone();
        Box::pin(async move { Ok(stream(xws, request).await) })
    }
}

pub(crate) async fn stream<H: Handler, B>(xws: Xws<H>, request: Request<B>) -> Response<Body> {
    let shared = &xws.shared;
    if request.method() != http::Method::GET {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "SSE streams use GET");
    }
    if shared.shutdown.is_cancelled() {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down");
    }
    let info = handshake::request_info(&request, Xws::<H>::remote_addr(&request));
    let topics: Vec<String> = info.query_params("topic").map(|t| t.into_owned()).collect();
    if topics.is_empty() {
        return plain(StatusCode::BAD_REQUEST, "name at least one ?topic=");
    }
    if !shared.config.origins.allows(info.origin()) {
        return plain(StatusCode::FORBIDDEN, "origin not allowed");
    }
    let permit = match shared
        .admission
        .admit(info.remote_addr.map(|addr| addr.ip()))
    {
        Ok(permit) => permit,
        Err(reject) => return rejection(reject),
    };
    let context = match AssertUnwindSafe(shared.handler.upgrade(&info))
        .catch_unwind()
        .await
    {
        Ok(Upgrade::Accept(accepted)) => accepted.context,
        Ok(Upgrade::Reject(reject)) => return rejection(reject),
        Err(_) => return plain(StatusCode::INTERNAL_SERVER_ERROR, "internal server error"),
    };

    let id = shared.registry.new_peer_id();
    let limits = &shared.config.limits;
    let (link, queue) = PeerLink::new(
        id.clone(),
        LinkKind::Sse,
        limits.send_queue,
        limits.slow_consumer,
    );
    let link = Arc::new(link);
    let transport = TokioTransport {
        link: Arc::clone(&link),
        registry: Arc::clone(&shared.registry),
    };
    let policy: Arc<dyn SubscribePolicy<H::Context>> = shared.handler.clone();
    let peer = Peer::new(id.clone(), info, context, Box::new(transport), policy);
    let mut subscribed = Vec::with_capacity(topics.len());
    for topic in &topics {
        match peer.subscribe(topic) {
            Ok(()) => subscribed.extend(Topic::new(topic)),
            Err(error) => {
                shared.registry.remove(&id, &subscribed);
                let status = match error {
                    Error::SubscribeRefused(_) => StatusCode::FORBIDDEN,
                    _ => StatusCode::BAD_REQUEST,
                };
                return plain(status, error.to_string());
            }
        }
    }

    let mut keep_alive = tokio::time::interval(shared.config.sse_keep_alive);
    keep_alive.reset();
    // A comment and the reconnection delay open the stream at once, so the
    // client's `open` fires before the first publication.
    let hello = format!(": xws\nretry: {}\n\n", shared.config.sse_retry.as_millis());
    let body = SseBody {
        first: Some(Bytes::from(hello)),
        queue,
        keep_alive,
        shutdown: Box::pin(shared.shutdown.clone().cancelled_owned()),
        _stream: Subscription {
            registry: Arc::clone(&shared.registry),
            id,
            topics: subscribed,
            _permit: permit,
        },
        link,
    };
    let mut response = Response::new(body.boxed_unsync());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(sse::CONTENT_TYPE),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// Unsubscribes the stream when its body is dropped (the client left).
struct Subscription {
    registry: Arc<Registry>,
    id: PeerId,
    topics: Vec<Topic>,
    _permit: Permit,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.registry.remove(&self.id, &self.topics);
    }
}

/// The response body: queued events, keep-alive comments, and an end on
/// shutdown.
struct SseBody {
    first: Option<Bytes>,
    queue: mpsc::Receiver<Frame>,
    keep_alive: Interval,
    shutdown: Pin<Box<WaitForCancellationFutureOwned>>,
    _stream: Subscription,
    link: Arc<PeerLink>,
}

impl http_body::Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<BodyFrame<Bytes>, Infallible>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(BodyFrame::data(first))));
        }
        if self.link.close_frame().is_some() {
            // A slow reader under the Close policy, or a shutdown: end the stream.
            return Poll::Ready(None);
        }
        match self.queue.poll_recv(cx) {
            Poll::Ready(Some(Frame::Encoded(bytes))) => {
                return Poll::Ready(Some(Ok(BodyFrame::data(bytes))));
            }
            Poll::Ready(Some(Frame::Message(message))) => {
                return Poll::Ready(Some(Ok(BodyFrame::data(sse::encode_message(0, &message)))));
            }
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        if self.shutdown.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        if self.keep_alive.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Ok(BodyFrame::data(sse::comment("keep-alive")))));
        }
        Poll::Pending
    }
}
