//! Server-Sent Events streams of topics, served by the object that holds the
//! topics' WebSocket peers.

use std::{cell::Cell, rc::Rc};

use worker::{Headers, Request, Response};
use xws::{Handler, Peer, PeerId, Topic};

use crate::{
    ids,
    object::to_worker,
    room::{Link, Room},
    transport::SseTransport,
    wire::{AcceptWire, request_info},
};

/// Opens a stream subscribed to every `?topic=` of `request`; the handler's
/// `authorize_subscribe` decides each one (403 when it refuses).
pub fn open<H: Handler>(
    room: &Rc<Room<H::Context>>,
    _handler: &H,
    request: &Request,
) -> worker::Result<Response> {
    let accept = AcceptWire::<H::Context>::decode(request).map_err(to_worker)?;
    let info = request_info(request).map_err(to_worker)?;
    let topics: Result<Vec<Topic>, _> = info.query_params("topic").map(Topic::new).collect();
    let topics = match topics {
        Ok(topics) if !topics.is_empty() => topics,
        Ok(_) => return Response::error("at least one ?topic= is required", 400),
        Err(error) => return Response::error(error.to_string(), 400),
    };
    let (sender, receiver) = futures_channel::mpsc::unbounded();
    let id = PeerId::new(format!("sse-{}", ids::random_uuid().map_err(to_worker)?));
    let transport = SseTransport {
        id: id.clone(),
        sender: sender.clone(),
        next_event_id: Cell::new(0),
        room: Rc::downgrade(room),
    };
    let peer = Peer::new(id, info, accept.context, Box::new(transport), room.policy());
    for topic in &topics {
        if let Err(error) = peer.subscribe(topic) {
            return Response::error(error.to_string(), 403);
        }
    }
    room.insert(peer, Link::Sse(sender.clone()));
    // A first chunk makes the runtime send the headers right away.
    let _ = sender.unbounded_send(Ok(xws::sse::comment("connected").to_vec()));

    let headers = Headers::new();
    headers.set("content-type", xws::sse::CONTENT_TYPE)?;
    headers.set("cache-control", "no-cache")?;
    Ok(Response::from_stream(receiver)?.with_headers(headers))
}
