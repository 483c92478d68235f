//! The Durable Object side: accepts hibernatable sockets and turns the
//! runtime's events into calls on each peer's [`Session`], which applies
//! the hook rules (limits, the app ping, errors) as on every adapter. What
//! is left here is Cloudflare's own: the attachment that carries a peer
//! through hibernation, and rebuilding the peers when the object wakes.

use std::{
    cell::{Cell, RefCell},
    collections::{BTreeSet, HashMap},
    rc::Rc,
    sync::Arc,
};

use futures_util::lock::Mutex;
use serde::Serialize;
use worker::{
    Headers, Request, Response, ResponseBuilder, State, Storage, WebSocket,
    WebSocketIncomingMessage, WebSocketPair, WebSocketRequestResponsePair,
};
use xws::{
    CloseCode, CloseFrame, Error, Handler, Hub, Message, PeerId,
    adapter::{Outcome, PeerPolicy, PeerSnapshot, RateLimiter, Session, SessionConfig},
};

use crate::{
    Config,
    admin::{AdminCommand, Closed, PeerInfo, TopicCount},
    admission, attachment,
    error::{RuntimeError, to_worker},
    ids,
    registry::{PeerKind, Registry},
    streams::{SqlStore, Streams},
    transport::SocketTransport,
    wire::{AcceptWire, Op, request_info},
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
    /// Rows this instance wrote to SQLite storage for streams (history
    /// appends, offsets, trims): what Durable Object storage bills.
    pub storage_rows_written: u64,
}

/// One peer's session. The lock keeps a peer's events in order: a hook that
/// awaits I/O lets the runtime deliver the next event, which waits here.
type SharedSession<H> = Rc<Mutex<Session<H>>>;

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
    registry: Arc<Registry>,
    sessions: RefCell<HashMap<PeerId, SharedSession<H>>>,
    loaded: Cell<bool>,
    restored: Cell<usize>,
    messages: Cell<u64>,
    instance: String,
    constructed_at: u64,
}

impl<H: Handler> Object<H> {
    /// Builds the engine in the object's constructor; this runs again after
    /// every hibernation.
    ///
    /// A handler whose [`Handler::NEEDS`] a Durable Object cannot give (see
    /// `adapters-matrix.md`) does not compile.
    pub fn new(state: State, handler: H, config: Config) -> Self {
        const { xws::caps::check::<xws::caps::CloudflareDurableObject, H>() };
        if config.metrics_log {
            // Before the first event, or its metrics would go nowhere.
            let _ = xws::metrics::LogRecorder::install();
        }
        if let Some(auto) = &config.auto_response {
            match WebSocketRequestResponsePair::new(&auto.request, &auto.response) {
                Ok(pair) => state.set_websocket_auto_response(&pair),
                Err(_) => tracing::error!("invalid WebSocket auto-response pair"),
            }
        }
        let streams = (!config.streams.is_empty())
            .then(|| match SqlStore::new(state.storage().sql()) {
                Ok(store) => Some(Streams::new(config.streams.clone(), store)),
                Err(error) => {
                    tracing::error!(%error, "no stream storage: topics keep no history");
                    None
                }
            })
            .flatten();
        #[allow(
            clippy::arc_with_non_send_sync,
            reason = "Workers run on one thread; `xws::Hub` and the transports hold an `Arc`"
        )]
        let registry = Arc::new(Registry::new(state, streams));
        Self {
            handler: Arc::new(handler),
            config,
            registry,
            sessions: RefCell::default(),
            loaded: Cell::new(false),
            restored: Cell::new(0),
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
            sockets: self.state().get_websockets().len(),
            peers_in_memory: self.registry.len(),
            restored: self.restored.get(),
            messages: self.messages.get(),
            storage_rows_written: self
                .registry
                .streams()
                .map_or(0, |streams| streams.store.rows_written()),
        }
    }

    /// The object's state, for the app's own use of storage and alarms.
    pub fn state(&self) -> &State {
        self.registry.state()
    }

    /// The object's transactional storage (the same as `state().storage()`).
    pub fn storage(&self) -> Storage {
        self.state().storage()
    }

    /// A hub publishing straight to this object's peers: for the object's
    /// own routes, its `alarm` and any work it runs. Unlike
    /// [`Xws::hub`](crate::Xws::hub) it makes no request to the object's
    /// stub, and it first restores peers that hibernated.
    pub fn hub(&self) -> Hub {
        self.ensure_loaded();
        Hub::new(self.registry.clone())
    }

    /// Whether `request` is one of the adapter's own (an upgrade, an SSE
    /// stream, a hub command, statistics) rather than an app route the
    /// [`Xws::forward`](crate::Xws::forward) sent. A `#[durable_object]`
    /// struct with routes of its own answers those first and passes the
    /// rest to [`Object::fetch`]:
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

    /// Handles a request the [`Xws`](crate::Xws) entry forwarded.
    pub async fn fetch(&self, mut request: Request) -> worker::Result<Response> {
        self.ensure_loaded();
        let answer = match Op::of(&request) {
            Some(Op::Upgrade) => self.accept(&request).await,
            Some(Op::Sse) => {
                crate::sse::accept(&self.registry, self.policy(), &self.config.limits, &request)
                    .await
            }
            Some(Op::Hub) => crate::hub::answer(&self.registry, &mut request).await,
            Some(Op::Stats) => Response::from_json(&self.stats()),
            Some(Op::Admin) => self.admin(&mut request).await,
            None => Response::error("not an xws request", 400),
        };
        self.log_metrics();
        answer
    }

    /// Carries out a server API command ([`AdminCommand`]).
    async fn admin(&self, request: &mut Request) -> worker::Result<Response> {
        // serde_json rather than `Request::json`, whose serde-wasm-bindgen
        // deserializer would be compiled in for this one type; from bytes,
        // as every JSON the adapter reads ([`crate::wire`]).
        let command = request
            .bytes()
            .await
            .ok()
            .and_then(|body| serde_json::from_slice::<AdminCommand>(&body).ok());
        let Some(command) = command else {
            return Response::error("not an admin command", 400);
        };
        match command {
            AdminCommand::Topics => {
                let counts: Vec<TopicCount> = self
                    .registry
                    .topic_counts()
                    .into_iter()
                    .map(|(topic, subscribers)| TopicCount {
                        topic: topic.to_string(),
                        subscribers,
                    })
                    .collect();
                Response::from_json(&counts)
            }
            AdminCommand::Peers { topic } => {
                let topic = match topic.map(xws::Topic::new).transpose() {
                    Ok(topic) => topic,
                    Err(error) => return Response::error(error.to_string(), 400),
                };
                let sessions: Vec<(PeerId, SharedSession<H>)> = self
                    .sessions
                    .borrow()
                    .iter()
                    .filter(|(id, _)| {
                        topic
                            .as_ref()
                            .is_none_or(|topic| self.registry.is_subscribed(id, topic))
                    })
                    .map(|(id, session)| (id.clone(), Rc::clone(session)))
                    .collect();
                let mut peers = Vec::with_capacity(sessions.len());
                for (id, session) in sessions {
                    // Waits for a hook of that peer in progress to end.
                    let session = session.lock().await;
                    let context = serde_json::to_value(&*session.peer().context())
                        .map_err(|e| worker::Error::RustError(e.to_string()))?;
                    peers.push(PeerInfo { id, context });
                }
                Response::from_json(&peers)
            }
            AdminCommand::Close { peers, frame } => {
                let mut closed = 0;
                for id in &peers {
                    let session = self.sessions.borrow().get(id).map(Rc::clone);
                    if let Some(session) = session {
                        // The client's answer brings `websocket_close`,
                        // which runs the `close` hook.
                        session
                            .lock()
                            .await
                            .peer()
                            .close(frame.code, frame.reason.clone());
                        closed += 1;
                    }
                }
                Response::from_json(&Closed { closed })
            }
        }
    }

    /// With [`Config::metrics_log`], logs what this event recorded: a JSON
    /// line per metric on the console, which `wrangler tail` and Workers
    /// Logs show (and index). Not through `tracing`: a Worker has no
    /// subscriber, so its events would go nowhere.
    fn log_metrics(&self) {
        if self.config.metrics_log
            && let Some(recorder) = xws::metrics::LogRecorder::install()
        {
            for line in recorder.drain_json() {
                worker::console_log!("{line}");
            }
        }
    }

    async fn accept(&self, request: &Request) -> worker::Result<Response> {
        let accept = AcceptWire::<H::Context>::decode(request).map_err(to_worker)?;
        let info = request_info(request).map_err(to_worker)?;
        let network_tag = match admission::admit(self.state(), &self.config.limits, &info) {
            Ok(tag) => tag,
            Err(reject) => return crate::entry::rejection(reject),
        };
        let id = PeerId::new(ids::random_uuid().map_err(to_worker)?);
        let pair = WebSocketPair::new()?;
        let transport = self.transport(&id, &pair.server);
        let peer = xws::adapter::new_peer(
            id,
            info,
            accept.context,
            transport,
            self.policy(),
            self.config.limits.max_topics_per_peer,
        );
        crate::streams::attach(&self.registry, &peer);
        // Stored before the socket is accepted: a context over the limit
        // refuses the connection instead of losing state later.
        let snapshot = xws::adapter::snapshot(&peer);
        let joined = attachment::Memberships::new();
        if let Err(error) = attachment::store(&pair.server, PeerKind::WebSocket, &snapshot, &joined)
        {
            tracing::error!(%error, "refusing a connection whose state cannot be stored");
            return Response::error(error.to_string(), 500);
        }
        admission::accept(self.state(), &pair.server, network_tag.as_deref());
        let id = snapshot.id;
        self.registry.insert(
            id.clone(),
            pair.server.clone(),
            PeerKind::WebSocket,
            BTreeSet::new(),
            joined,
        );
        let session = Session::new(
            self.handler.clone(),
            peer,
            self.session_config(),
            ids::now_ms(),
        );
        let session = Rc::new(Mutex::new(session));
        self.sessions.borrow_mut().insert(id, Rc::clone(&session));
        {
            let mut session = session.lock().await;
            let outcome = session.open().await;
            persist(&self.registry, &mut session, &pair.server, outcome).await;
        }

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

    /// A message arrived on a hibernatable socket.
    pub async fn websocket_message(
        &self,
        socket: WebSocket,
        incoming: WebSocketIncomingMessage,
    ) -> worker::Result<()> {
        self.messages.set(self.messages.get() + 1);
        let Some(session) = self.session_for(&socket)? else {
            return Ok(());
        };
        let message = match incoming {
            WebSocketIncomingMessage::String(text) => Message::from(text),
            WebSocketIncomingMessage::Binary(bytes) => Message::from(bytes),
        };
        let mut session = session.lock().await;
        let outcome = session.message(message, ids::now_ms()).await;
        persist(&self.registry, &mut session, &socket, outcome).await;
        drop(session);
        self.log_metrics();
        Ok(())
    }

    /// The client closed the socket: the `close` hook, then the peer leaves
    /// its topics.
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
        let ended = self.end(&socket, None, frame).await;
        self.log_metrics();
        ended
    }

    /// The socket failed: the `error` hook, then `close` with 1006.
    pub async fn websocket_error(
        &self,
        socket: WebSocket,
        error: worker::Error,
    ) -> worker::Result<()> {
        let error = RuntimeError::Socket(error.to_string()).into();
        let frame = CloseFrame::new(CloseCode::ABNORMAL, "");
        self.end(&socket, Some(error), frame).await
    }

    /// Ends the socket's peer: its session's last hooks, then the registry
    /// forgets it. A stream has no session and leaves quietly.
    async fn end(
        &self,
        socket: &WebSocket,
        error: Option<Error>,
        frame: CloseFrame,
    ) -> worker::Result<()> {
        self.ensure_loaded();
        let Some((id, _)) = attachment::peer_of(socket).map_err(to_worker)? else {
            return Ok(());
        };
        let session = self.sessions.borrow_mut().remove(&id);
        if let Some(session) = session {
            let mut session = session.lock().await;
            if let Some(error) = &error {
                session.report(error).await;
            }
            session.close(frame).await;
        }
        self.registry.remove(&id);
        Ok(())
    }

    /// The session of `socket`'s peer; `None` for an SSE stream (the
    /// Worker never writes to it) and for a socket whose peer is lost,
    /// which is closed with 1011.
    fn session_for(&self, socket: &WebSocket) -> worker::Result<Option<SharedSession<H>>> {
        self.ensure_loaded();
        let found = attachment::peer_of(socket).map_err(to_worker)?;
        if let Some((id, kind)) = &found {
            if *kind == PeerKind::Sse {
                return Ok(None);
            }
            if let Some(session) = self.sessions.borrow().get(id) {
                return Ok(Some(Rc::clone(session)));
            }
        }
        tracing::error!(peer = ?found, "a message on a socket without a peer; closing it");
        let _ = socket.close(Some(1011), Some("unknown peer"));
        Ok(None)
    }

    /// Rebuilds every hibernated socket's peer, once per instance, so that
    /// a publication reaches every subscriber from the first event on.
    fn ensure_loaded(&self) {
        if self.loaded.replace(true) {
            return;
        }
        for socket in self.state().get_websockets() {
            match attachment::load::<H::Context>(&socket) {
                Ok(Some((kind, snapshot, joined))) => {
                    self.restore(kind, snapshot, joined, socket);
                    self.restored.set(self.restored.get() + 1);
                }
                Ok(None) => tracing::warn!("a socket without xws state is ignored"),
                Err(error) => {
                    tracing::error!(%error, "cannot restore a peer; closing its socket");
                    let _ = socket.close(Some(1011), Some("peer state lost"));
                }
            }
        }
    }

    /// Lists a stored peer again; a WebSocket peer gets a new session, with
    /// a full rate-limit bucket: limiters live in memory, and an object
    /// hibernates only after seconds without a message, in which a bucket
    /// refills anyway (see the crate docs).
    fn restore(
        &self,
        kind: PeerKind,
        snapshot: PeerSnapshot<H::Context>,
        joined: attachment::Memberships,
        socket: WebSocket,
    ) {
        let id = snapshot.id.clone();
        self.registry.insert(
            id.clone(),
            socket.clone(),
            kind,
            snapshot.topics.clone(),
            joined,
        );
        if kind == PeerKind::Sse {
            return;
        }
        let transport = self.transport(&id, &socket);
        let peer = xws::adapter::restore_peer(
            snapshot,
            transport,
            self.policy(),
            self.config.limits.max_topics_per_peer,
        );
        crate::streams::attach(&self.registry, &peer);
        let config = self.session_config();
        let limiter = config
            .rate
            .map(|rate| RateLimiter::new(rate, ids::now_ms()));
        let session = Session::resume(self.handler.clone(), peer, config, limiter);
        self.sessions
            .borrow_mut()
            .insert(id, Rc::new(Mutex::new(session)));
    }

    fn transport(&self, id: &PeerId, socket: &WebSocket) -> Box<SocketTransport> {
        Box::new(SocketTransport {
            id: id.clone(),
            socket: socket.clone(),
            registry: Arc::clone(&self.registry),
        })
    }

    fn policy(&self) -> Arc<dyn PeerPolicy<H::Context>> {
        self.handler.clone()
    }

    /// The session answers the app ping too: with the default
    /// [`Config::auto_response`] the runtime answers it first, and without
    /// it the object still answers (woken for it) without the handler.
    fn session_config(&self) -> SessionConfig {
        SessionConfig {
            target: "cloudflare",
            ..SessionConfig::from(&self.config.limits)
        }
    }
}

/// Stores the peer's state (with its presence memberships) on its socket
/// when the step changed it; a state over the platform's limit ends the
/// peer ([`Error::StateTooLarge`], 1011).
async fn persist<H: Handler>(
    registry: &Registry,
    session: &mut Session<H>,
    socket: &WebSocket,
    outcome: Outcome,
) {
    if !outcome.persist {
        return;
    }
    let snapshot = xws::adapter::snapshot(session.peer());
    let joined = registry.joined_of(&snapshot.id);
    if let Err(error) = attachment::store(socket, PeerKind::WebSocket, &snapshot, &joined) {
        let _ = session.fail(error).await;
    }
}
