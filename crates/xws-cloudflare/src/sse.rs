//! Server-Sent Events streams of topics.
//!
//! The Worker serves the stream; the object sees it as a hibernatable
//! WebSocket from the Worker, subscribed to the stream's topics. So an open
//! stream never keeps the object awake, survives hibernation like any peer,
//! and counts against the connection limits as a WebSocket peer does. A
//! client that leaves makes the Worker's next write fail (an event or the
//! keep-alive, [`Config::sse_keep_alive`](crate::Config::sse_keep_alive)),
//! and the Worker closes the socket, which removes the peer and frees its
//! place. A client that reads too slowly is held to the send queue of
//! [`xws::Limits`] in the Worker (see [`crate::relay`]): past it the
//! stream ends and the socket closes with 1013.
//!
//! The object sends the socket whole events: on a topic that keeps history
//! each one's id is its stream position, and a client reconnecting with
//! `Last-Event-ID` gets what it missed first. Other events carry no id.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{
    StreamExt,
    future::{Either, select},
};
use serde::{Serialize, de::DeserializeOwned};

use worker::{Delay, Headers, Request, Response, WebSocket, WebSocketPair, WebsocketEvent};
use xws::{
    CloseCode, CloseFrame, Limits, PeerId, Topic,
    adapter::PeerPolicy,
    stream::{Position, SubscribeOptions},
};

use crate::{
    admission, attachment,
    error::{RuntimeError, to_worker},
    ids,
    registry::{PeerKind, Registry},
    relay::{self, RelayWriter},
    transport::SocketTransport,
    wire::{AcceptWire, request_info},
};

/// Why the Worker closes the socket of a stream whose client reads too
/// slowly (the reason xws-tokio closes a slow peer with).
const SLOW_READER_CLOSE: &str = "send queue full: reading too slowly";

/// In the object: accepts the Worker's socket for a stream subscribed to
/// every `?topic=` of `request`; the handler's `authorize_subscribe` decides
/// each one (403 when it refuses). The stream counts against the
/// connection limits as a WebSocket does (503, 429: see
/// [`crate::admission`]) until it ends. A stream runs no hooks, so it has no
/// session: the registry holds its socket and topics, the attachment keeps
/// them through hibernation. With `Last-Event-ID` (a stream position) each
/// topic that keeps history replays what came after it.
pub async fn accept<C: Serialize + DeserializeOwned + Clone + 'static>(
    registry: &Arc<Registry>,
    policy: Arc<dyn PeerPolicy<C>>,
    limits: &xws::Limits,
    request: &Request,
) -> worker::Result<Response> {
    let max_topics = limits.max_topics_per_peer;
    let accept = AcceptWire::<C>::decode(request).map_err(to_worker)?;
    let info = request_info(request).map_err(to_worker)?;
    let network_tag = match admission::admit(registry.state(), limits, &info) {
        Ok(tag) => tag,
        Err(reject) => return crate::entry::rejection(reject),
    };
    let topics: Result<Vec<Topic>, _> = info.query_params("topic").map(Topic::new).collect();
    let topics = match topics {
        Ok(topics) if topics.len() > max_topics => {
            let error = xws::Error::TooManyTopics { limit: max_topics };
            return Response::error(error.to_string(), 400);
        }
        Ok(topics) if !topics.is_empty() => topics,
        Ok(_) => return Response::error("at least one ?topic= is required", 400),
        Err(error) => return Response::error(error.to_string(), 400),
    };
    let id = PeerId::new(ids::random_uuid().map_err(to_worker)?);
    let pair = WebSocketPair::new()?;
    // Listed first, so that each allowed subscription joins the index.
    registry.insert(
        id.clone(),
        pair.server.clone(),
        PeerKind::Sse,
        Default::default(),
        Default::default(),
    );
    let transport = SocketTransport {
        id: id.clone(),
        socket: pair.server.clone(),
        registry: Arc::clone(registry),
    };
    let peer = xws::adapter::new_peer(
        id.clone(),
        info,
        accept.context,
        Box::new(transport),
        policy,
        max_topics,
    );
    crate::streams::attach(registry, &peer);
    let since = info_since(request);
    // Resumed subscriptions start (replay) once the socket is accepted.
    let mut resumed = Vec::new();
    let mut subscribed = Ok(());
    for topic in &topics {
        let keeps = registry
            .streams()
            .is_some_and(|streams| streams.config.retention(topic.as_str()).is_some());
        subscribed = match &since {
            // A position of another topic's stream never matches this
            // one's epoch: it recovers nothing there.
            Some(since) if keeps => {
                let options = SubscribeOptions::new().since(Some(since.clone()));
                peer.subscribe_with(topic, options)
                    .await
                    .map(|subscription| resumed.push(subscription))
            }
            _ => peer.subscribe(topic),
        };
        if subscribed.is_err() {
            break;
        }
    }
    let stored = subscribed.and_then(|()| {
        let snapshot = xws::adapter::snapshot(&peer);
        attachment::store(&pair.server, PeerKind::Sse, &snapshot, &Default::default())
    });
    if let Err(error) = stored {
        registry.remove(&id);
        let status = match error {
            xws::Error::SubscribeRefused(_) => 403,
            xws::Error::InvalidTopic { .. } | xws::Error::TooManyTopics { .. } => 400,
            _ => 500,
        };
        return Response::error(error.to_string(), status);
    }
    admission::accept(registry.state(), &pair.server, network_tag.as_deref());
    resumed
        .into_iter()
        .for_each(xws::stream::Subscription::start);
    Response::from_websocket(pair.client)
}

/// The position in the request's `Last-Event-ID`, if it holds one.
fn info_since(request: &Request) -> Option<Position> {
    request
        .headers()
        .get("last-event-id")
        .ok()
        .flatten()
        .and_then(|value| value.trim().parse().ok())
}

/// In the Worker: turns the object's answer into the client's response. A
/// refusal (400, 403, 429, 503) passes through; an accepted socket becomes
/// an event stream, with a keep-alive comment after each `keep_alive` of
/// silence, relayed through a queue bounded by `limits`' send queue (see
/// [`crate::relay`]).
pub fn serve(answer: Response, keep_alive: Duration, limits: &Limits) -> worker::Result<Response> {
    if answer.status_code() != 101 {
        return Ok(answer);
    }
    let socket = answer
        .websocket()
        .ok_or_else(|| to_worker(RuntimeError::NoStreamSocket.into()))?;
    socket.accept()?;
    let (mut writer, reader) = relay::relay(limits);
    // A first chunk makes the runtime send the headers right away.
    let _ = writer.push(xws::sse::comment("connected").to_vec());
    wasm_bindgen_futures::spawn_local(pump(socket, writer, keep_alive));
    let headers = Headers::new();
    headers.set("content-type", xws::sse::CONTENT_TYPE)?;
    headers.set("cache-control", "no-cache")?;
    Ok(Response::from_stream(reader)?.with_headers(headers))
}

/// Copies the socket's events (encoded by the object) into the relay
/// until either side ends. Nothing tells the Worker its client left but a
/// write that fails, so a silent stream writes a keep-alive comment: the
/// socket, and the stream's place in the object's limits, are released
/// within `keep_alive` of the client leaving, not at the topic's next
/// publication. A client that reads too slowly has its socket closed with
/// 1013, as a Tokio peer is.
async fn pump(socket: WebSocket, mut writer: RelayWriter, keep_alive: Duration) {
    let Ok(mut events) = socket.events() else {
        return;
    };
    let ended = loop {
        let silence = Delay::from(keep_alive);
        let pushed = match select(events.next(), silence).await {
            Either::Left((Some(Ok(WebsocketEvent::Message(message))), _)) => match message.text() {
                Some(text) => writer.push(text.into_bytes()),
                None => continue,
            },
            Either::Left((None | Some(Ok(WebsocketEvent::Close(_)) | Err(_)), _)) => {
                break CloseFrame::new(CloseCode::NORMAL, "stream ended");
            }
            Either::Right(((), _)) => writer.push_if_idle(xws::sse::comment("keep-alive").to_vec()),
        };
        match pushed {
            Ok(()) => {}
            // Closing the socket removes the peer and frees its place.
            Err(xws::Error::QueueFull) => {
                break CloseFrame::new(CloseCode::TRY_AGAIN_LATER, SLOW_READER_CLOSE);
            }
            // The client left.
            Err(_) => break CloseFrame::new(CloseCode::NORMAL, "stream ended"),
        }
    };
    writer.end();
    let _ = socket.close(Some(ended.code.as_u16()), Some(ended.reason.as_str()));
}
