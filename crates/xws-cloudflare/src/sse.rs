//! Server-Sent Events streams of topics.
//!
//! The Worker serves the stream; the object sees it as a hibernatable
//! WebSocket from the Worker, subscribed to the stream's topics. So an open
//! stream never keeps the object awake, survives hibernation like any peer,
//! and a client that leaves closes the socket, which removes the peer.

use std::sync::Arc;

use futures_channel::mpsc::{UnboundedSender, unbounded};
use futures_util::StreamExt;
use serde::{Serialize, de::DeserializeOwned};
use worker::{Headers, Request, Response, WebSocket, WebSocketPair, WebsocketEvent};
use xws::{Message, PeerId, Topic, adapter::PeerPolicy};

use crate::{
    attachment,
    error::{RuntimeError, to_worker},
    ids,
    registry::{PeerKind, Registry},
    transport::SocketTransport,
    wire::{AcceptWire, request_info},
};

/// One chunk of an SSE body, as `Response::from_stream` takes it.
type Chunk = Result<Vec<u8>, worker::Error>;

/// In the object: accepts the Worker's socket for a stream subscribed to
/// every `?topic=` of `request`; the handler's `authorize_subscribe` decides
/// each one (403 when it refuses). A stream runs no hooks, so it has no
/// session: the registry holds its socket and topics, the attachment keeps
/// them through hibernation.
pub fn accept<C: Serialize + DeserializeOwned + Clone + 'static>(
    registry: &Arc<Registry>,
    policy: Arc<dyn PeerPolicy<C>>,
    request: &Request,
) -> worker::Result<Response> {
    let accept = AcceptWire::<C>::decode(request).map_err(to_worker)?;
    let info = request_info(request).map_err(to_worker)?;
    let topics: Result<Vec<Topic>, _> = info.query_params("topic").map(Topic::new).collect();
    let topics = match topics {
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
    );
    let subscribed = topics.iter().try_for_each(|topic| peer.subscribe(topic));
    let stored = subscribed.and_then(|()| {
        attachment::store(&pair.server, PeerKind::Sse, &xws::adapter::snapshot(&peer))
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
    registry.state().accept_web_socket(&pair.server);
    Response::from_websocket(pair.client)
}

/// In the Worker: turns the object's answer into the client's response. A
/// refusal (400, 403) passes through; an accepted socket becomes an event
/// stream.
pub fn serve(answer: Response) -> worker::Result<Response> {
    if answer.status_code() != 101 {
        return Ok(answer);
    }
    let socket = answer
        .websocket()
        .ok_or_else(|| to_worker(RuntimeError::NoStreamSocket.into()))?;
    socket.accept()?;
    let (sender, receiver) = unbounded::<Chunk>();
    // A first chunk makes the runtime send the headers right away.
    let _ = sender.unbounded_send(Ok(xws::sse::comment("connected").to_vec()));
    wasm_bindgen_futures::spawn_local(pump(socket, sender));
    let headers = Headers::new();
    headers.set("content-type", xws::sse::CONTENT_TYPE)?;
    headers.set("cache-control", "no-cache")?;
    Ok(Response::from_stream(receiver)?.with_headers(headers))
}

/// Copies the socket's messages into the stream until either side ends.
async fn pump(socket: WebSocket, sender: UnboundedSender<Chunk>) {
    let Ok(mut events) = socket.events() else {
        return;
    };
    let mut next_id = 0;
    while let Some(event) = events.next().await {
        let message = match event {
            Ok(WebsocketEvent::Message(message)) => match (message.text(), message.bytes()) {
                (Some(text), _) => Message::from(text),
                (None, Some(bytes)) => Message::from(bytes),
                (None, None) => continue,
            },
            Ok(WebsocketEvent::Close(_)) | Err(_) => break,
        };
        next_id += 1;
        let event = xws::sse::encode_message(next_id, &message);
        if sender.unbounded_send(Ok(event.to_vec())).is_err() {
            // The client left: closing the socket removes the peer.
            break;
        }
    }
    let _ = socket.close(Some(1000), Some("stream ended"));
}
