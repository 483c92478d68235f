//! The Durable Object side: accepts hibernatable sockets and runs the
//! handler's hooks for them.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    rc::Rc,
    sync::Arc,
};

use serde::Serialize;
use worker::{
    Headers, Request, Response, ResponseBuilder, State, Storage, WebSocket,
    WebSocketIncomingMessage, WebSocketPair, WebSocketRequestResponsePair,
};
use xws::{
    CloseCode, CloseFrame, Error, Handler, Hub, Message, Peer, PeerId,
    adapter::{RateDecision, RateLimiter},
};

use crate::{
    Config, attachment, ids,
    local_hub::LocalHub,
    room::{Room, is_stream},
    transport::SocketTransport,
    wire::{AcceptWire, HubCommand, HubOp, HubReply, Op, request_info},
};

/// What `GET` stats of an object report (for tests and operators).
#[derive(Clone, Debug, Serialize)]
pub struct ObjectStats {
    /// A random id of this in-memory instance: it changes when the runtime
    /// evicts the object (hibernation) and builds it again.
    pub instance: String,
    /// When this instance was constructed, in ms since the epoch.
    pub constructed_at: u64,
    /// Open WebSockets the runtime holds for the object.
    pub sockets: usize,
    /// Peers held in memory (sockets and SSE streams).
    pub peers_in_memory: usize,
    /// Peers this instance rebuilt from socket attachments.
    pub restored: usize,
    /// WebSocket messages this instance was woken for. Frames the runtime
    /// answers itself ([`Config::auto_response`]) never count.
    pub messages: u64,
}

/// The engine of a Durable Object hosting handler `H`. A `#[durable_object]`
/// struct owns one and forwards `fetch` and the `websocket_*` events to it.
///
/// ```ignore
/// #[durable_object]
/// pub struct ChatRoom(xws_cloudflare::Object<ChatHandler>);
///
/// impl DurableObject for ChatRoom {
///     fn new(state: State, env: Env) -> Self {
///         Self(Object::new(state, ChatHandler::default(), Config::default()))
///     }
///     async fn fetch(&self, req: Request) -> Result<Response> { self.0.fetch(req).await }
///     // websocket_message, websocket_close and websocket_error:
///     xws_cloudflare::websocket_events!(0);
/// }
/// ```
pub struct Object<H: Handler> {
    handler: Arc<H>,
    config: Config,
    room: Rc<Room<H::Context>>,
    rates: RefCell<HashMap<PeerId, RateLimiter>>,
    messages: Cell<u64>,
    instance: String,
    constructed_at: u64,
}

impl<H: Handler> Object<H> {
    /// Builds the engine in the object's constructor; this runs again after
    /// every hibernation.
    pub fn new(state: State, handler: H, config: Config) -> Self {
        if let Some(auto) = &config.auto_response {
            match WebSocketRequestResponsePair::new(&auto.request, &auto.response) {
                Ok(pair) => state.set_websocket_auto_response(&pair),
                Err(_) => tracing::error!("invalid WebSocket auto-response pair"),
            }
        }
        let handler = Arc::new(handler);
        let room = Room::new(state, handler.clone());
        Self {
            handler,
            config,
            room,
            rates: RefCell::default(),
            messages: Cell::new(0),
            instance: ids::random_uuid().unwrap_or_else(|_| ids::now_ms().to_string()),
            constructed_at: ids::now_ms(),
        }
    }

    /// This instance's statistics.
    pub fn stats(&self) -> ObjectStats {
        ObjectStats {
            instance: self.instance.clone(),
            constructed_at: self.constructed_at,
            sockets: self.room.state().get_websockets().len(),
            peers_in_memory: self.room.len(),
            restored: self.room.restored(),
            messages: self.messages.get(),
        }
    }

    /// The object's state, for the app's own use of storage and alarms.
    pub fn state(&self) -> &State {
        self.room.state()
    }

    /// The object's transactional storage (the same as `state().storage()`).
    pub fn storage(&self) -> Storage {
        self.room.state().storage()
    }

    /// A hub publishing straight to this object's peers: for the object's
    /// own routes, its `alarm` and any work it runs. Unlike
    /// [`Gateway::hub`](crate::Gateway::hub) it makes no request to the
    /// object's stub, and it first restores peers that hibernated.
    pub fn hub(&self) -> Hub {
        self.room.ensure_loaded();
        #[allow(
            clippy::arc_with_non_send_sync,
            reason = "Workers run on one thread; `xws::Hub` holds an `Arc`"
        )]
        let transport = Arc::new(LocalHub::new(Rc::clone(&self.room)));
        Hub::new(transport)
    }

    /// Whether `request` is one of the adapter's own (an upgrade, an SSE
    /// stream, a hub command, statistics) rather than an app route the
    /// [`Gateway::forward`](crate::Gateway::forward) sent. A
    /// `#[durable_object]` struct with routes of its own answers those
    /// first and passes the rest to [`Object::fetch`]:
    ///
    /// ```ignore
    /// async fn fetch(&self, request: Request) -> Result<Response> {
    ///     if self.object.handles(&request) {
    ///         return self.object.fetch(request).await;
    ///     }
    ///     match request.path().as_str() { /* the app's routes */ }
    /// }
    /// ```
    pub fn handles(&self, request: &Request) -> bool {
        Op::of(request).is_some()
    }

    /// Handles a request the [`Gateway`](crate::Gateway) forwarded.
    pub async fn fetch(&self, mut request: Request) -> worker::Result<Response> {
        self.room.ensure_loaded();
        match Op::of(&request) {
            Some(Op::Upgrade) => self.accept(&request).await,
            Some(Op::Sse) => crate::sse::accept::<H>(&self.room, &request),
            Some(Op::Hub) => self.hub_command(&mut request).await,
            Some(Op::Stats) => Response::from_json(&self.stats()),
            None => Response::error("not an xws request", 400),
        }
    }

    async fn accept(&self, request: &Request) -> worker::Result<Response> {
        let limit = self.config.limits.max_connections;
        if self.room.state().get_websockets().len() >= limit {
            return Response::error("connection limit reached", 503);
        }
        let accept = AcceptWire::<H::Context>::decode(request).map_err(to_worker)?;
        let info = request_info(request).map_err(to_worker)?;
        let id = PeerId::new(ids::random_uuid().map_err(to_worker)?);
        let pair = WebSocketPair::new()?;
        let transport = SocketTransport {
            id: id.clone(),
            socket: pair.server.clone(),
            room: Rc::downgrade(&self.room),
        };
        let peer = xws::adapter::new_peer(
            id,
            info,
            accept.context,
            Box::new(transport),
            self.room.policy(),
        );
        // Stored before the socket is accepted: a context over the limit
        // refuses the connection instead of losing state later.
        if let Err(error) = attachment::store(&pair.server, &xws::adapter::snapshot(&peer)) {
            tracing::error!(%error, "refusing a connection whose state cannot be stored");
            return Response::error(error.to_string(), 500);
        }
        self.room.state().accept_web_socket(&pair.server);
        self.room.insert(peer.clone(), pair.server);
        let opened = self.handler.open(&peer).await;
        self.after_hook(&peer, opened.map_err(Error::Handler)).await;

        let headers = Headers::new();
        if let Some(protocol) = &accept.protocol {
            headers.set("sec-websocket-protocol", protocol)?;
        }
        for (name, value) in &accept.headers {
            headers.append(name, value)?;
        }
        Ok(ResponseBuilder::new()
            .with_status(101)
            .with_headers(headers)
            .with_websocket(pair.client)
            .empty())
    }

    /// Runs after every hook: reports its error, stores changed state.
    async fn after_hook(&self, peer: &Peer<H::Context>, outcome: Result<(), Error>) {
        if let Err(error) = outcome {
            self.fail(peer, error).await;
            return;
        }
        if let Err(error) = self.room.persist(peer) {
            self.fail(peer, error).await;
        }
    }

    /// Tells the handler, then closes the peer with the error's code.
    async fn fail(&self, peer: &Peer<H::Context>, error: Error) {
        tracing::warn!(peer = %peer.id(), %error, "closing peer");
        self.handler.error(peer, &error).await;
        let reason = match &error {
            Error::StateTooLarge { .. } => "peer state too large",
            Error::MessageTooLarge { .. } => "message too large",
            Error::RateLimited => "rate limit exceeded",
            _ => "internal error",
        };
        peer.close(error.close_code(), reason);
    }

    /// A message arrived on a hibernatable socket.
    pub async fn websocket_message(
        &self,
        socket: WebSocket,
        incoming: WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        self.messages.set(self.messages.get() + 1);
        let Some(peer) = self.room.peer_for(&socket).map_err(to_worker)? else {
            let _ = socket.close(Some(1011), Some("unknown peer"));
            return Ok(());
        };
        if is_stream(&peer) {
            return Ok(());
        }
        let message = match incoming {
            WebSocketIncomingMessage::String(text) => Message::from(text),
            WebSocketIncomingMessage::Binary(bytes) => Message::from(bytes),
        };
        let limit = self.config.limits.max_message_size;
        if message.len() > limit {
            let error = Error::MessageTooLarge {
                size: message.len(),
                limit,
            };
            self.fail(&peer, error).await;
            return Ok(());
        }
        match self.rate_check(peer.id()) {
            RateDecision::Allow => {}
            RateDecision::Refuse => {
                self.handler.error(&peer, &Error::RateLimited).await;
                return Ok(());
            }
            RateDecision::Close => {
                self.fail(&peer, Error::RateLimited).await;
                return Ok(());
            }
        }
        let outcome = self.handler.message(&peer, message).await;
        self.after_hook(&peer, outcome.map_err(Error::Handler))
            .await;
        Ok(())
    }

    fn rate_check(&self, id: &PeerId) -> RateDecision {
        let Some(limit) = self.config.limits.rate else {
            return RateDecision::Allow;
        };
        let now = ids::now_ms();
        self.rates
            .borrow_mut()
            .entry(id.clone())
            .or_insert_with(|| RateLimiter::new(limit, now))
            .check(now)
    }

    /// The client closed the socket.
    pub async fn websocket_close(
        &self,
        socket: WebSocket,
        code: usize,
        reason: String,
        _was_clean: bool,
    ) -> worker::Result<()> {
        let code = u16::try_from(code).unwrap_or(CloseCode::ABNORMAL.as_u16());
        let frame = CloseFrame::new(CloseCode::from(code), reason);
        // Completes the closing handshake; the runtime may already have.
        let reply = if frame.code.is_sendable() { code } else { 1000 };
        let _ = socket.close(Some(reply), Some(frame.reason.clone()));
        if let Some(peer) = self.room.peer_for(&socket).map_err(to_worker)? {
            if !is_stream(&peer) {
                self.handler.close(&peer, frame).await;
            }
            self.forget(&peer);
        }
        Ok(())
    }

    /// The socket failed.
    pub async fn websocket_error(
        &self,
        socket: WebSocket,
        error: worker::Error,
    ) -> worker::Result<()> {
        let error = Error::transport(error.to_string());
        if let Some(peer) = self.room.peer_for(&socket).map_err(to_worker)? {
            if !is_stream(&peer) {
                self.handler.error(&peer, &error).await;
            }
            self.forget(&peer);
        }
        Ok(())
    }

    fn forget(&self, peer: &Peer<H::Context>) {
        self.room.remove(peer.id());
        self.rates.borrow_mut().remove(peer.id());
    }

    async fn hub_command(&self, request: &mut Request) -> worker::Result<Response> {
        let command: HubCommand = request.query()?;
        let body = request.bytes().await?;
        let message = if command.binary {
            Message::from(body)
        } else {
            match xws::Text::from_utf8(body.into()) {
                Ok(text) => Message::from(text),
                Err(error) => return Response::error(error.to_string(), 400),
            }
        };
        let mut reply = HubReply::default();
        match command.op {
            HubOp::Publish => {
                let Some(topic) = command
                    .topic
                    .as_deref()
                    .and_then(|t| xws::Topic::new(t).ok())
                else {
                    return Response::error("publish needs a valid topic", 400);
                };
                reply.delivered = self.room.publish(&topic, &message, command.peer.as_ref());
            }
            HubOp::Broadcast => reply.delivered = self.room.broadcast(&message),
            HubOp::SendTo => {
                let Some(peer) = &command.peer else {
                    return Response::error("send_to needs a peer", 400);
                };
                reply.sent = self.room.send_to(peer, &message);
                reply.delivered = usize::from(reply.sent);
            }
            HubOp::Peers => reply.peers = self.room.peer_ids(),
        }
        Response::from_json(&reply)
    }
}

/// Turns an xws error into the runtime's error type.
pub(crate) fn to_worker(error: Error) -> worker::Error {
    worker::Error::RustError(error.to_string())
}
