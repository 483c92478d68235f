//! The response body of one stream.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use xws::{BoxFuture, CloseCode, CloseFrame, Handler, Peer, Topic, sse};

use crate::{
    Runtime, StreamConfig, StreamTopics,
    queue::{End, Outgoing, QueueReader},
};

/// How many queued events one chunk of the body carries at most.
const BATCH: usize = 64;

/// A stream's peer while the stream is open.
pub(crate) struct OpenPeer<H: Handler, R: Runtime> {
    pub(crate) handler: Arc<H>,
    pub(crate) peer: Peer<H::Context>,
    pub(crate) topics: Arc<dyn StreamTopics>,
    pub(crate) runtime: R,
}

impl<H: Handler, R: Runtime> OpenPeer<H, R> {
    pub(crate) fn unsubscribe_all(&self) {
        let id = self.peer.id();
        for topic in self.peer.topics() {
            self.topics.unsubscribe(id, &topic);
        }
    }

    /// Leaves every topic and returns the `close` hook, to be run.
    fn finish(self, frame: CloseFrame) -> BoxFuture<'static, ()> {
        self.unsubscribe_all();
        let (handler, peer) = (self.handler, self.peer);
        Box::pin(async move { handler.close(&peer, frame).await })
    }
}

/// The `text/event-stream` body of one stream: a comment and the `retry:`
/// hint at once (so the client's `open` fires and the headers leave), what
/// `open` sent, then publications as they come, a keep-alive comment after
/// each silent interval, and an end:
///
/// - at the end of its lifetime, a last `retry:` and a comment: the client
///   reconnects (with `Last-Event-ID`);
/// - when the handler closes the peer, `event: close` with
///   `{"code":…,"reason":"…"}`: the client should stop (`EventSource.close()`);
/// - when the client reads too slowly, a comment saying so;
/// - when its source of publications is lost, a `retry:` and a comment.
///
/// The handler's `close` hook runs before the body ends; when the client
/// leaves first (the body is dropped), it runs in the background.
pub struct EventStream<H: Handler, R: Runtime> {
    first: Option<Bytes>,
    reader: QueueReader,
    keep_alive_every: Duration,
    retry: Duration,
    keep_alive: Pin<Box<R::Sleep>>,
    lifetime: Pin<Box<R::Sleep>>,
    runtime: R,
    open: Option<OpenPeer<H, R>>,
    closing: Option<BoxFuture<'static, ()>>,
    ended: Option<End>,
}

impl<H: Handler, R: Runtime> EventStream<H, R> {
    pub(crate) fn new(
        open: OpenPeer<H, R>,
        reader: QueueReader,
        config: &StreamConfig,
        lifetime: Duration,
    ) -> Self {
        let hello = format!(": xws\nretry: {}\n\n", config.retry.as_millis());
        Self {
            first: Some(Bytes::from(hello)),
            reader,
            keep_alive_every: config.keep_alive,
            retry: config.retry,
            keep_alive: Box::pin(open.runtime.sleep(config.keep_alive)),
            lifetime: Box::pin(open.runtime.sleep(lifetime)),
            runtime: open.runtime.clone(),
            open: Some(open),
            closing: None,
            ended: None,
        }
    }

    /// The stream's peer id.
    pub fn id(&self) -> Option<&xws::PeerId> {
        self.open.as_ref().map(|open| open.peer.id())
    }

    /// The topics the stream listens to.
    pub fn topics(&self) -> Vec<Topic> {
        self.open
            .as_ref()
            .map(|open| open.peer.topics())
            .unwrap_or_default()
    }

    /// Why the stream ended, once it has.
    pub fn ended(&self) -> Option<&End> {
        self.ended.as_ref()
    }

    /// The last bytes of the body, and the `close` hook to run.
    fn end(&mut self, why: End) -> Bytes {
        let last = match &why {
            End::Lifetime => format!(
                "retry: {}\n: the stream ends before the platform's limit; reconnect\n\n",
                self.retry.as_millis()
            )
            .into(),
            End::Closed(frame) => {
                let data =
                    serde_json::json!({ "code": frame.code.as_u16(), "reason": frame.reason });
                sse::SseEvent::new(data.to_string()).event("close").encode()
            }
            End::SlowReader => sse::comment("the client reads too slowly; reconnect"),
            End::Interrupted => format!(
                "retry: {}\n: the stream lost its publications; reconnect\n\n",
                self.retry.as_millis()
            )
            .into(),
        };
        if let Some(open) = self.open.take() {
            self.closing = Some(open.finish(why.frame()));
        }
        self.ended = Some(why);
        last
    }
}

// Every future the stream polls is boxed, so the stream itself may move.
impl<H: Handler, R: Runtime> Unpin for EventStream<H, R> {}

impl<H: Handler, R: Runtime> Stream for EventStream<H, R> {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let this = &mut *self;
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(first));
        }
        if let Some(closing) = &mut this.closing {
            return match closing.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.closing = None;
                    Poll::Ready(None)
                }
                Poll::Pending => Poll::Pending,
            };
        }
        if this.ended.is_some() {
            return Poll::Ready(None);
        }
        let mut chunk = BytesMut::new();
        let mut batched = 0;
        while batched < BATCH {
            match this.reader.receiver.poll_next_unpin(cx) {
                Poll::Ready(Some(Outgoing::Event(event))) => {
                    this.reader.taken();
                    chunk.extend_from_slice(&event);
                    batched += 1;
                }
                Poll::Ready(Some(Outgoing::End(why))) => {
                    chunk.extend_from_slice(&this.end(why));
                    return Poll::Ready(Some(chunk.freeze()));
                }
                // Every sender is gone: nothing can come any more.
                Poll::Ready(None) => {
                    let frame = CloseFrame::new(CloseCode::NORMAL, "");
                    chunk.extend_from_slice(&this.end(End::Closed(frame)));
                    return Poll::Ready(Some(chunk.freeze()));
                }
                Poll::Pending => break,
            }
        }
        if batched > 0 {
            this.keep_alive = Box::pin(this.runtime.sleep(this.keep_alive_every));
            return Poll::Ready(Some(chunk.freeze()));
        }
        if this.lifetime.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(this.end(End::Lifetime)));
        }
        if this.keep_alive.as_mut().poll(cx).is_ready() {
            this.keep_alive = Box::pin(this.runtime.sleep(this.keep_alive_every));
            // Polled once, so the new timer registers its wake-up.
            let _ = this.keep_alive.as_mut().poll(cx);
            return Poll::Ready(Some(sse::comment("keep-alive")));
        }
        Poll::Pending
    }
}

impl<H: Handler, R: Runtime> Drop for EventStream<H, R> {
    fn drop(&mut self) {
        // The client left before the end: leave the topics now, run the
        // `close` hook in the background.
        if let Some(open) = self.open.take() {
            let frame = CloseFrame::new(CloseCode::GOING_AWAY, "the client left");
            self.runtime.spawn(open.finish(frame));
        }
    }
}
