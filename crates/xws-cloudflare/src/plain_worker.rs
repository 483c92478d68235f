//! SSE streams held by a plain Worker, without a Durable Object for the
//! stream: the handler runs in the Worker's request, and the stream's
//! topics go through [`TopicBroker`](crate::TopicBroker) objects.
//!
//! A plain Worker cannot reach another request's I/O, so each stream opens
//! its own socket to the broker object of each of its topics, inside its own
//! request; a publication from any other request (a route, a cron run) is a
//! `POST` to that object, which sends it on every socket. A stream ends
//! before [`StreamConfig::max_duration`] with a `retry:` hint (15 minutes by
//! default: Workers set no wall-clock limit on a streamed response while the
//! client is connected, but a deploy ends it, and a bounded stream bounds
//! what one request holds), or with `event: close` when the handler closes
//! the peer.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures_channel::oneshot;
use futures_util::StreamExt;
use futures_util::future::{LocalBoxFuture, join_all};
use worker::{Delay, Env, Headers, Request, Response, WebSocket, WebsocketEvent};
use xws::caps::CloudflareWorker;
use xws::stream::Position;
use xws::{BoxFuture, Error, Handler, Hub, Message, PeerId, Topic};
use xws_serverless::{
    BadVariable, End, EventQueue, Refusal, Runtime, Session, StreamConfig, StreamTopics,
    recovered_event,
};

use crate::{
    error::to_worker,
    ids,
    topic_broker::{BrokerHub, TopicBrokers},
    topic_history::Frame,
    wire::request_info,
};

/// How long one stream lasts by default.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(15 * 60);

/// Timers, tasks and ids of the Workers runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkerRuntime;

impl Runtime for WorkerRuntime {
    type Sleep = Delay;

    fn sleep(&self, duration: Duration) -> Delay {
        Delay::from(duration)
    }

    fn spawn(&self, task: impl Future<Output = ()> + xws::MaybeSend + 'static) {
        wasm_bindgen_futures::spawn_local(task);
    }

    fn stream_id(&self) -> PeerId {
        let uuid = ids::random_uuid().unwrap_or_else(|_| ids::now_ms().to_string());
        PeerId::new(format!("sse-{uuid}"))
    }
}

/// The streams of one handler in a plain Worker, with topic brokers bound
/// as `binding` (a Durable Object class delegating to
/// [`TopicBroker`](crate::TopicBroker)). Build one per request: it is cheap.
pub struct WorkerStreams<H> {
    handler: H,
    binding: String,
    config: StreamConfig,
}

impl<H: Handler> WorkerStreams<H> {
    /// `handler`'s streams, brokers bound as `binding`, streams of
    /// [`DEFAULT_MAX_DURATION`].
    pub fn new(handler: H, binding: impl Into<String>) -> Self {
        Self {
            handler,
            binding: binding.into(),
            config: StreamConfig::new(DEFAULT_MAX_DURATION),
        }
    }

    /// With the timing of [`StreamConfig::with_env`] read from the Worker's
    /// vars (`XWS_SSE_MAX_DURATION_SECS`, …).
    pub fn with_vars(mut self, env: &Env) -> Result<Self, BadVariable> {
        self.config = self
            .config
            .with_env(|name| env.var(name).ok().map(|value| value.to_string()))?;
        Ok(self)
    }

    /// Answers `request` with a stream, or with the status that says why not
    /// (a WebSocket handshake: 501 naming SSE).
    pub async fn stream(self, request: Request, env: &Env) -> worker::Result<Response> {
        let brokers = TopicBrokers::new(env, &self.binding).map_err(to_worker)?;
        let info = request_info(&request).map_err(to_worker)?;
        let method = http::Method::from_bytes(request.method().as_ref().as_bytes())
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        // One request, one thread: the Arc is never shared across threads.
        #[allow(clippy::arc_with_non_send_sync)]
        let topics = Arc::new(BrokerTopics::new(brokers));
        let session =
            Session::new::<CloudflareWorker>(self.handler, topics, WorkerRuntime, self.config);
        match session.open(&method, info, None).await {
            Ok(stream) => {
                let chunks = stream.map(|chunk| Ok::<_, worker::Error>(chunk.to_vec()));
                let headers = Headers::new();
                headers.set("content-type", xws::sse::CONTENT_TYPE)?;
                headers.set("cache-control", "no-cache")?;
                Ok(Response::from_stream(chunks)?.with_headers(headers))
            }
            Err(refusal) => refused(refusal),
        }
    }
}

/// A hub publishing to the streams of every Worker request through the
/// topic brokers bound as `binding`: for routes and cron runs.
pub fn broker_hub(env: &Env, binding: &str) -> worker::Result<Hub> {
    let brokers = TopicBrokers::new(env, binding).map_err(to_worker)?;
    Ok(Hub::new(Arc::new(BrokerHub(brokers))))
}

fn refused(refusal: Refusal) -> worker::Result<Response> {
    let headers = Headers::new();
    for (name, value) in &refusal.headers {
        if let Ok(value) = value.to_str() {
            headers.set(name.as_str(), value)?;
        }
    }
    headers.set("content-type", "text/plain; charset=utf-8")?;
    Ok(Response::error(refusal.body, refusal.status.as_u16())?.with_headers(headers))
}

/// The sockets of one stream's request, one per topic.
type Sockets = Rc<RefCell<HashMap<Topic, WebSocket>>>;

/// One stream's topics: a socket to each topic's broker object.
struct BrokerTopics {
    brokers: TopicBrokers,
    sockets: Sockets,
    /// Subscriptions still connecting, for `subscribed`.
    connecting: RefCell<Vec<oneshot::Receiver<Result<(), Error>>>>,
}

impl BrokerTopics {
    fn new(brokers: TopicBrokers) -> Self {
        Self {
            brokers,
            sockets: Rc::default(),
            connecting: RefCell::default(),
        }
    }
}

impl StreamTopics for BrokerTopics {
    /// With `since`, the topic's broker replays what the stream missed
    /// before anything live, or says it cannot (and sends the newest).
    fn subscribe(
        &self,
        stream: &PeerId,
        topic: &Topic,
        queue: &EventQueue,
        since: Option<&Position>,
    ) -> Result<(), Error> {
        if self.sockets.borrow().contains_key(topic) {
            return Ok(());
        }
        let (connected, connecting) = oneshot::channel();
        self.connecting.borrow_mut().push(connecting);
        let (brokers, sockets) = (self.brokers.clone(), self.sockets.clone());
        let (stream, topic, queue) = (stream.clone(), topic.clone(), queue.clone());
        let since = since.cloned();
        wasm_bindgen_futures::spawn_local(async move {
            match brokers.subscribe(&topic, &stream, since.as_ref()).await {
                Ok(socket) => {
                    sockets.borrow_mut().insert(topic.clone(), socket.clone());
                    let _ = connected.send(Ok(()));
                    listen(socket, topic, queue, sockets).await;
                }
                Err(error) => {
                    let _ = connected.send(Err(error));
                }
            }
        });
        Ok(())
    }

    fn unsubscribe(&self, _stream: &PeerId, topic: &Topic) {
        // Removed first, so its listener does not take the close for a loss.
        if let Some(socket) = self.sockets.borrow_mut().remove(topic) {
            let _ = socket.close(Some(1000), Some("unsubscribed"));
        }
    }

    fn publish(
        &self,
        topic: &Topic,
        message: Message,
        exclude: Option<&PeerId>,
    ) -> Result<(), Error> {
        let (brokers, topic, exclude) = (self.brokers.clone(), topic.clone(), exclude.cloned());
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(error) = brokers.publish(&topic, &message, exclude.as_ref()).await {
                tracing::warn!(%error, %topic, "xws-cloudflare: a stream's publication was lost");
            }
        });
        Ok(())
    }

    fn subscribed(&self, _stream: &PeerId) -> BoxFuture<'_, Result<(), Error>> {
        let connecting: Vec<_> = self.connecting.borrow_mut().drain(..).collect();
        Box::pin(async move {
            for connected in join_all(connecting).await {
                connected.map_err(|_| Error::transport("the topic broker went away"))??;
            }
            Ok(())
        })
    }
}

/// Copies a topic socket's publications into the stream, each with its
/// position as the event id, until either ends; a socket lost while the
/// stream still wants it ends the stream, so the client reconnects.
fn listen(
    socket: WebSocket,
    topic: Topic,
    queue: EventQueue,
    sockets: Sockets,
) -> LocalBoxFuture<'static, ()> {
    Box::pin(async move {
        if let Ok(mut events) = socket.events() {
            while let Some(event) = events.next().await {
                let text = match event {
                    Ok(WebsocketEvent::Message(message)) => match message.text() {
                        Some(text) => text,
                        None => continue,
                    },
                    Ok(WebsocketEvent::Close(_)) | Err(_) => break,
                };
                let event = match serde_json::from_slice::<Frame>(text.as_bytes()) {
                    Ok(Frame::Recovered { recovered }) => recovered_event(recovered),
                    Ok(frame) => match frame.publication() {
                        Some(publication) => publication.to_sse(),
                        None => continue,
                    },
                    Err(error) => {
                        tracing::warn!(%error, %topic, "xws-cloudflare: a broker frame did not parse");
                        continue;
                    }
                };
                if queue.push(event).is_err() {
                    break;
                }
            }
        }
        let wanted = sockets.borrow_mut().remove(&topic).is_some();
        if wanted && !queue.is_closed() {
            queue.end(End::Interrupted);
        }
    })
}
