//! Topics as Server-Sent Events.

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::Frame as BodyFrame;
use http_body_util::BodyExt;
use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};
use tokio::time::Interval;
use tokio_util::sync::WaitForCancellationFutureOwned;
use xws::{
    Error, Handler, PeerId, Topic, sse,
    stream::{self, Position, SubscribeOptions},
};

use crate::{
    Body, Xws,
    admission::Permits,
    dispatch::new_peer,
    gate::{self, Admitted},
    handshake::plain,
    link::{Frame, LinkKind, PeerLink},
    outbox::OutboxReader,
    registry::Registry,
    service::endpoint_service,
};

/// Streams the topics named in the query (`?topic=room:1&topic=news`) as
/// Server-Sent Events: every publication arrives as `event: message` (or
/// `event: binary`, base64) with an `id:`.
///
/// On a topic that keeps history (see [`Xws::with_streams`]) the id is the
/// publication's stream position, and a reconnecting `EventSource`'s
/// `Last-Event-ID` replays what it missed before live events (ephemeral
/// publications there carry no id, so they never move it).
///
/// The handler's `upgrade` hook authenticates the request as for a
/// WebSocket, and `authorize_subscribe` must allow every topic (403
/// otherwise). An SSE stream is not listed among peers and does not receive
/// broadcasts: it listens to its topics only.
pub struct SseService<H: Handler> {
    xws: Xws<H>,
}

endpoint_service!(SseService, stream);

pub(crate) async fn stream<H: Handler, B>(xws: Xws<H>, request: Request<B>) -> Response<Body> {
    let shared = &xws.shared;
    if request.method() != http::Method::GET {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "SSE streams use GET");
    }
    let mut topics: Vec<String> = request
        .uri()
        .query()
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .filter(|(key, _)| key == "topic")
                .map(|(_, topic)| topic.into_owned())
                .collect()
        })
        .unwrap_or_default();
    topics.sort_unstable();
    topics.dedup();
    if topics.is_empty() {
        return plain(StatusCode::BAD_REQUEST, "name at least one ?topic=");
    }
    let limit = shared.config.limits.max_topics_per_peer;
    if topics.len() > limit {
        return plain(
            StatusCode::BAD_REQUEST,
            Error::TooManyTopics { limit }.to_string(),
        );
    }
    let Admitted {
        info,
        permit,
        accepted,
    } = match gate::admit(shared, gate::arrival(shared, &request)).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let since = request
        .headers()
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<Position>().ok());
    let (peer, link, queue) = new_peer(shared, LinkKind::Sse, info, accepted.context);
    link.set_byte_budget(shared.config.limits.send_queue_bytes);
    let id = peer.id().clone();
    let mut subscribed = Vec::with_capacity(topics.len());
    for topic in &topics {
        let resumes = since.is_some()
            && Topic::new(topic).is_ok_and(|topic| {
                shared
                    .registry
                    .streams()
                    .is_some_and(|streams| streams.keeps_history(&topic))
            });
        let subscription = if resumes {
            // A position of another topic's stream never matches this one's
            // epoch: it recovers nothing there.
            let options = SubscribeOptions::new().since(since.clone());
            peer.subscribe_with(topic, options)
                .await
                .map(stream::Subscription::start)
        } else {
            peer.subscribe(topic)
        };
        match subscription {
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
    event_stream(body)
}

/// A `text/event-stream` response that proxies neither cache nor buffer.
pub(crate) fn event_stream(
    body: impl http_body::Body<Data = Bytes, Error = Infallible> + Send + 'static,
) -> Response<Body> {
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
    _permit: Permits,
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
    queue: OutboxReader,
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
        if let Poll::Ready(frame) = self.queue.poll_recv(cx) {
            let bytes = match frame {
                Frame::Encoded(bytes) => bytes,
                // Only WebSocket links receive converted frames.
                Frame::Message(message) => sse::encode_message(0, &message),
                Frame::WebSocket(_) => Bytes::new(),
            };
            return Poll::Ready(Some(Ok(BodyFrame::data(bytes))));
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
