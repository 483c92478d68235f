//! A Durable Object as the broker of a plain Worker's streams: one object
//! per topic (named by the topic), holding a hibernatable WebSocket per
//! stream that listens to it, and the topic's history.
//!
//! A stream's Worker request opens a socket to the object of each of its
//! topics (`GET /subscribe`, with the position the client last saw, if
//! any: the publications after it come first); a publication (`POST
//! /publish`, from any Worker request or cron run) gets the topic's next
//! position, is kept ([`topic_history`](crate::topic_history)) and sent on
//! every socket; `GET /latest` is the newest (cache mode: what a new stream
//! can show first). The sockets hibernate: an idle topic costs no running
//! object, and a publication wakes it for one storage read, one write and
//! one fan-out.

use std::time::Duration;

use futures_channel::oneshot;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{
    Env, Headers, Method, Request, Response, State, Stub, WebSocket, WebSocketIncomingMessage,
    WebSocketPair,
};
use xws::stream::{Position, Retention};
use xws::{Delivery, Error, Message, PeerId, Pending, Text, Topic, adapter::HubTransport};

use crate::error::to_worker;
use crate::ids;
use crate::internal_request;
use crate::outgoing::Outgoing;
use crate::topic_history::{Frame, History};

/// Whether a body is a text or a binary message.
pub(crate) const KIND_HEADER: &str = "x-xws-kind";
/// The stream a socket belongs to (its tag), and the stream a publication
/// skips (its sender).
const STREAM_HEADER: &str = "x-xws-stream";
/// The position a subscription resumes after (`offset:epoch`).
const SINCE_HEADER: &str = "x-xws-since";
const HISTORY_KEY: &str = "history";

/// The engine of a topic broker object: a `#[durable_object]` struct holds
/// one and passes it its `fetch` and its WebSocket events
/// ([`websocket_events!`](crate::websocket_events)): the sockets only
/// listen, and a close is answered.
///
/// ```ignore
/// #[durable_object]
/// pub struct Topics { broker: xws_cloudflare::TopicBroker }
///
/// impl DurableObject for Topics {
///     fn new(state: State, _env: Env) -> Self {
///         Self { broker: xws_cloudflare::TopicBroker::new(state) }
///     }
///     async fn fetch(&self, request: Request) -> worker::Result<Response> {
///         self.broker.fetch(request).await
///     }
///     xws_cloudflare::websocket_events!(broker);
/// }
/// ```
pub struct TopicBroker {
    state: State,
    retention: Retention,
}

impl TopicBroker {
    /// The engine of the object whose state is `state`, keeping the last 100
    /// publications for 5 minutes.
    pub fn new(state: State) -> Self {
        Self {
            state,
            retention: Retention::new(100, Duration::from_secs(5 * 60)),
        }
    }

    /// Keeps what `retention` says instead. The history is one storage value
    /// (read and written once per publication), so keep it to small
    /// publications: the value limit is 128 KiB (2 MB on SQLite-backed
    /// objects).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    async fn history(&self) -> worker::Result<History> {
        let mut history: History = self
            .state
            .storage()
            .get(HISTORY_KEY)
            .await?
            .unwrap_or_default();
        history.trim(ids::now_ms(), self.retention);
        Ok(history)
    }

    /// Answers the broker's routes; anything else is 404.
    pub async fn fetch(&self, mut request: Request) -> worker::Result<Response> {
        match (request.method(), request.path().as_str()) {
            (Method::Get, "/subscribe") => {
                let pair = WebSocketPair::new()?;
                let stream = request.headers().get(STREAM_HEADER)?.unwrap_or_default();
                let since = request
                    .headers()
                    .get(SINCE_HEADER)?
                    .and_then(|since| since.parse::<Position>().ok());
                self.state
                    .accept_websocket_with_tags(&pair.server, &[stream.as_str()]);
                if let Some(since) = since {
                    // One storage read, during which the object takes no
                    // other event (its input gate): no publication lands
                    // between the replay and the live ones.
                    let history = self.history().await?;
                    self.replay(&pair.server, &history, &since)?;
                }
                Response::from_websocket(pair.client)
            }
            (Method::Post, "/publish") => {
                let binary = kind_is_binary(request.headers());
                let exclude = request.headers().get(STREAM_HEADER)?;
                let data = request.bytes().await?;
                let mut history = self.history().await?;
                let entry = history
                    .append(binary, data, ids::now_ms(), self.retention)
                    .map_err(to_worker)?;
                self.state.storage().put(HISTORY_KEY, &history).await?;
                let frame = serde_json::to_string(&history.frame(&entry))?;
                let delivered = self.fan_out(&frame, exclude.as_deref());
                Response::from_json(&serde_json::json!({ "delivered": delivered }))
            }
            (Method::Get, "/latest") => match self.history().await?.latest_message() {
                Some(message) => {
                    let message = message.map_err(to_worker)?;
                    let response = Response::from_bytes(message.bytes().to_vec())?;
                    let headers = Headers::new();
                    headers.set(KIND_HEADER, kind(message.is_binary()))?;
                    Ok(response.with_headers(headers))
                }
                None => Response::empty().map(|r| r.with_status(204)),
            },
            _ => Response::error("not found", 404),
        }
    }

    /// Sends what `socket` missed after `since`, then whether that was all
    /// of it; when it was not, the newest publication comes first, so the
    /// stream still starts from the current state.
    fn replay(
        &self,
        socket: &WebSocket,
        history: &History,
        since: &Position,
    ) -> worker::Result<()> {
        let (entries, recovered) = match history.after(since) {
            Some(missed) => (missed, true),
            None => (history.latest().into_iter().collect(), false),
        };
        for entry in entries {
            socket.send_with_str(serde_json::to_string(&history.frame(entry))?)?;
        }
        socket.send_with_str(serde_json::to_string(&Frame::Recovered { recovered })?)
    }

    /// A listening socket sends nothing that matters: ignored.
    pub async fn websocket_message(
        &self,
        _socket: WebSocket,
        _message: WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        Ok(())
    }

    /// A stream's request closed its socket (the stream ended): answer the
    /// close; the runtime forgets the socket.
    pub async fn websocket_close(
        &self,
        socket: WebSocket,
        code: usize,
        reason: String,
        _was_clean: bool,
    ) -> worker::Result<()> {
        let code = u16::try_from(code)
            .ok()
            .filter(|c| *c != 1005 && *c != 1006);
        let _ = socket.close(code.or(Some(1000)), Some(reason));
        Ok(())
    }

    /// A socket failed: the runtime forgets it; its stream ends on its side.
    pub async fn websocket_error(
        &self,
        _socket: WebSocket,
        _error: worker::Error,
    ) -> worker::Result<()> {
        Ok(())
    }

    /// Sends one publication's frame on every listening socket but
    /// `exclude`'s.
    fn fan_out(&self, frame: &str, exclude: Option<&str>) -> usize {
        // The excluded stream's sockets found by their tag once, rather
        // than every socket's tags read; the frame made a JavaScript
        // string once for every socket.
        let excluded = exclude
            .map(|stream| self.state.get_websockets_with_tag(stream))
            .unwrap_or_default();
        let frame = Outgoing::text(frame);
        self.state
            .get_websockets()
            .iter()
            .filter(|socket| !excluded.contains(socket))
            .filter(|socket| frame.send(socket).is_ok())
            .count()
    }
}

fn kind(binary: bool) -> &'static str {
    if binary { "binary" } else { "text" }
}

fn kind_is_binary(headers: &Headers) -> bool {
    headers.get(KIND_HEADER).ok().flatten().as_deref() == Some("binary")
}

/// The topic broker objects of one Durable Object binding, as a plain
/// Worker's code reaches them.
#[derive(Clone)]
pub struct TopicBrokers {
    namespace: worker::ObjectNamespace,
}

impl TopicBrokers {
    /// The objects bound as `binding`.
    pub fn new(env: &Env, binding: &str) -> Result<Self, Error> {
        Ok(Self {
            namespace: env.durable_object(binding).map_err(transport)?,
        })
    }

    fn stub(&self, topic: &Topic) -> Result<Stub, Error> {
        self.namespace
            .id_from_name(topic.as_str())
            .and_then(|id| id.get_stub())
            .map_err(transport)
    }

    async fn call(
        &self,
        topic: &Topic,
        method: Method,
        headers: &Headers,
        body: Option<&JsValue>,
        path: &str,
    ) -> Result<Response, Error> {
        let url = format!("https://xws-broker.internal{path}");
        let request = internal_request::new(&url, method, headers, body).map_err(transport)?;
        self.stub(topic)?
            .fetch_with_request(request)
            .await
            .map_err(transport)
    }

    /// A socket that hears every publication of `topic`, once the object has
    /// accepted it.
    pub(crate) async fn subscribe(
        &self,
        topic: &Topic,
        stream: &PeerId,
        since: Option<&Position>,
    ) -> Result<WebSocket, Error> {
        let headers = Headers::new();
        headers.set("upgrade", "websocket").map_err(transport)?;
        headers
            .set(STREAM_HEADER, stream.as_str())
            .map_err(transport)?;
        if let Some(since) = since {
            headers
                .set(SINCE_HEADER, &since.to_string())
                .map_err(transport)?;
        }
        let response = self
            .call(topic, Method::Get, &headers, None, "/subscribe")
            .await?;
        let socket = response
            .websocket()
            .ok_or_else(|| Error::transport("the topic broker sent no socket"))?;
        socket.accept().map_err(transport)?;
        Ok(socket)
    }

    /// Publishes `message` to `topic`'s listeners but `exclude`; how many
    /// got it.
    pub async fn publish(
        &self,
        topic: &Topic,
        message: &Message,
        exclude: Option<&PeerId>,
    ) -> Result<usize, Error> {
        let headers = Headers::new();
        headers
            .set(KIND_HEADER, kind(message.is_binary()))
            .map_err(transport)?;
        if let Some(stream) = exclude {
            headers
                .set(STREAM_HEADER, stream.as_str())
                .map_err(transport)?;
        }
        let body = js_sys::Uint8Array::from(&message.bytes()[..]).into();
        let mut response = self
            .call(topic, Method::Post, &headers, Some(&body), "/publish")
            .await?;
        #[derive(Deserialize)]
        struct Reply {
            delivered: usize,
        }
        let body = response.bytes().await.map_err(transport)?;
        let reply: Reply =
            serde_json::from_slice(&body).map_err(|e| Error::malformed("topic broker reply", e))?;
        Ok(reply.delivered)
    }

    /// `topic`'s latest publication, if any: what a stream can show first
    /// (the cache mode of a topic).
    pub async fn latest(&self, topic: &Topic) -> Result<Option<Message>, Error> {
        let mut response = self
            .call(topic, Method::Get, &Headers::new(), None, "/latest")
            .await?;
        if response.status_code() == 204 {
            return Ok(None);
        }
        let binary = kind_is_binary(response.headers());
        let data = response.bytes().await.map_err(transport)?;
        Ok(Some(if binary {
            Message::from(data)
        } else {
            Message::Text(Text::from_utf8(data.into())?)
        }))
    }
}

fn transport(error: worker::Error) -> Error {
    Error::transport(error.to_string())
}

/// A [`xws::Hub`]'s transport on the topic brokers, for a plain Worker's
/// routes and cron runs. A publication's request starts on the event loop
/// when called, so a dropped [`Pending`] still publishes.
pub(crate) struct BrokerHub(pub(crate) TopicBrokers);

impl HubTransport for BrokerHub {
    fn publish(
        &self,
        topic: Topic,
        message: Message,
        exclude: Option<PeerId>,
    ) -> Pending<Delivery> {
        let brokers = self.0.clone();
        let (done, result) = oneshot::channel();
        wasm_bindgen_futures::spawn_local(async move {
            let published = brokers.publish(&topic, &message, exclude.as_ref()).await;
            let _ = done.send(published.map(|delivered| Delivery { delivered }));
        });
        Pending::started(async move {
            result
                .await
                .unwrap_or_else(|_| Err(Error::transport("the publication was cancelled")))
        })
    }

    fn broadcast(&self, message: Message) -> Pending<Delivery> {
        let _ = message;
        // Streams listen to their topics only (as on every SSE target).
        Pending::ready(Ok(Delivery::default()))
    }

    fn send_to(&self, peer: PeerId, message: Message) -> Pending<bool> {
        let _ = (peer, message);
        Pending::ready(Err(Error::Unsupported {
            target: "Cloudflare Worker (no Durable Object)",
            capability: "sending to one stream",
            alternative: "publish to a topic only that stream subscribes to (user:{id})",
        }))
    }

    fn peers(&self) -> Pending<Vec<PeerId>> {
        Pending::ready(Err(Error::Unsupported {
            target: "Cloudflare Worker (no Durable Object)",
            capability: "peers listing",
            alternative: "use a Durable Object (xws-cloudflare's Object)",
        }))
    }
}
