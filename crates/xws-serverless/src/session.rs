//! One stream from request to end: the handler's `upgrade` and `open`
//! hooks, then the events, keep-alives and a clean end.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use xws::stream::Position;
use xws::{
    CloseCode, CloseFrame, Error, Handler, Message, PeerId, RequestInfo, Topic, Upgrade,
    adapter::PeerTransport,
    caps::{DeploymentTarget, Platform},
};

use crate::{
    EventStream, Refusal, Runtime, StreamConfig, StreamTopics,
    queue::{End, EventQueue, queue},
    stream::OpenPeer,
};

/// Opens streams for one handler on one target: the part of an adapter that
/// is the same on Vercel, a Lambda function URL and a plain Worker.
///
/// A `GET` opens a stream: the `upgrade` hook decides (a [`xws::Reject`]
/// answers its status), the topics named by `?topic=` are subscribed (each
/// allowed by `authorize_subscribe`, 403 otherwise), and the `open` hook runs
/// before the first byte, so what it sends (the current state) comes first,
/// then the publications of the peer's topics, keep-alive comments, and a
/// clean end before the platform's limit. A WebSocket upgrade is answered
/// 501 with the alternative, never left hanging.
pub struct Session<H: Handler, R: Runtime> {
    handler: Arc<H>,
    topics: Arc<dyn StreamTopics>,
    runtime: R,
    config: StreamConfig,
    target: DeploymentTarget,
}

impl<H: Handler, R: Runtime> Clone for Session<H, R> {
    fn clone(&self) -> Self {
        Self {
            handler: self.handler.clone(),
            topics: self.topics.clone(),
            runtime: self.runtime.clone(),
            config: self.config,
            target: self.target,
        }
    }
}

impl<H: Handler, R: Runtime> Session<H, R> {
    /// Streams of `handler` on platform `P`; fails to compile when `P`
    /// cannot give what the handler needs (see [`xws::caps`]).
    pub fn new<P: Platform>(
        handler: H,
        topics: Arc<dyn StreamTopics>,
        runtime: R,
        config: StreamConfig,
    ) -> Self {
        const { xws::caps::check::<P, H>() };
        Self {
            handler: Arc::new(handler),
            topics,
            runtime,
            config,
            target: P::TARGET,
        }
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The timing of its streams.
    pub fn config(&self) -> &StreamConfig {
        &self.config
    }

    /// Opens a stream for `request` (made with `method`), or says why not.
    /// `remaining` is the time the invocation has left, where the platform
    /// tells it (a Lambda's deadline); the stream ends before it.
    pub async fn open(
        &self,
        method: &http::Method,
        request: RequestInfo,
        remaining: Option<Duration>,
    ) -> Result<EventStream<H, R>, Refusal> {
        if let Some(refusal) = Refusal::websocket(self.target, &request) {
            return Err(refusal);
        }
        if let Some(refusal) = Refusal::method(method) {
            return Err(refusal);
        }
        let accept = match self.handler.upgrade(&request).await {
            Upgrade::Accept(accept) => accept,
            Upgrade::Reject(reject) => return Err(reject.into()),
        };
        let named: Vec<String> = request.query_params("topic").map(Into::into).collect();
        if named.len() > self.config.max_topics {
            let error = Error::TooManyTopics {
                limit: self.config.max_topics,
            };
            return Err(Refusal::new(StatusCode::BAD_REQUEST, error.to_string()));
        }
        // A reconnecting EventSource names the last position it saw.
        let since = request
            .header("last-event-id")
            .and_then(|id| id.trim().parse::<Position>().ok());
        let id = self.runtime.stream_id();
        let (events, reader) = queue(self.config.queue_capacity);
        let transport = StreamTransport {
            id: id.clone(),
            queue: events,
            topics: self.topics.clone(),
            since,
        };
        let peer = xws::adapter::new_peer(
            id,
            request,
            accept.context,
            Box::new(transport),
            self.handler.clone(),
            self.config.max_topics,
        );
        let open = OpenPeer {
            handler: self.handler.clone(),
            peer,
            topics: self.topics.clone(),
            runtime: self.runtime.clone(),
        };
        for topic in &named {
            if let Err(error) = open.peer.subscribe(topic) {
                let status = match error {
                    Error::SubscribeRefused(_) => StatusCode::FORBIDDEN,
                    _ => StatusCode::BAD_REQUEST,
                };
                open.unsubscribe_all();
                return Err(Refusal::new(status, error.to_string()));
            }
        }
        if let Err(error) = self.handler.open(&open.peer).await {
            let error = Error::Handler(error);
            tracing::warn!(%error, peer = %open.peer.id(), "xws-serverless: the open hook failed");
            self.handler.error(&open.peer, &error).await;
            open.unsubscribe_all();
            return Err(Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the stream could not be opened",
            ));
        }
        if let Err(error) = self.topics.subscribed(open.peer.id()).await {
            tracing::warn!(%error, "xws-serverless: the stream's topics could not be subscribed");
            open.unsubscribe_all();
            return Err(Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the stream's topics are unavailable; retry",
            ));
        }
        let lifetime = self.config.lifetime(remaining);
        Ok(EventStream::new(open, reader, &self.config, lifetime))
    }
}

/// What a stream's [`Peer`] does: sends go to its queue, topics to the
/// target's [`StreamTopics`], each resuming after `since` where it can.
struct StreamTransport {
    id: PeerId,
    queue: EventQueue,
    topics: Arc<dyn StreamTopics>,
    since: Option<Position>,
}

impl PeerTransport for StreamTransport {
    fn send(&self, message: Message) -> Result<(), Error> {
        self.queue.send(&message)
    }

    fn subscribe(&self, topic: &Topic) -> Result<(), Error> {
        self.topics
            .subscribe(&self.id, topic, &self.queue, self.since.as_ref())
    }

    fn unsubscribe(&self, topic: &Topic) -> Result<(), Error> {
        self.topics.unsubscribe(&self.id, topic);
        Ok(())
    }

    fn publish(&self, topic: &Topic, message: Message) -> Result<(), Error> {
        self.topics.publish(topic, message, Some(&self.id))
    }

    fn close(&self, frame: CloseFrame) {
        self.queue.end(End::Closed(frame));
    }
}

impl End {
    /// The close frame the `close` hook gets.
    pub(crate) fn frame(&self) -> CloseFrame {
        match self {
            End::Lifetime => CloseFrame::new(
                CloseCode::GOING_AWAY,
                "the stream reached its lifetime; the client reconnects",
            ),
            End::Closed(frame) => frame.clone(),
            End::SlowReader => CloseFrame::new(CloseCode::TRY_AGAIN_LATER, "slow reader"),
            End::Interrupted => {
                CloseFrame::new(CloseCode::TRY_AGAIN_LATER, "the broker connection was lost")
            }
        }
    }
}
