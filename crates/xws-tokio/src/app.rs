//! [`Xws`]: one handler served on Tokio, with its peers, topics and hub.

use std::{net::SocketAddr, sync::Arc};
use tokio::time::Instant;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use xws::{
    Handler, Hub,
    adapter::Broker,
    stream::{MemoryStore, StreamConfig, StreamStore},
};

use crate::{
    Config, FallbackService, SseService, WsService,
    admission::Admission,
    registry::Registry,
    streams::{Engine, random_epoch},
};

/// A handler served on Tokio: hand its [`ws`](Self::ws) and
/// [`sse`](Self::sse) services to axum, or run it with
/// [`serve`](crate::serve). Cloning is cheap and shares everything.
pub struct Xws<H: Handler> {
    pub(crate) shared: Arc<Shared<H>>,
}

impl<H: Handler> Clone for Xws<H> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// What every connection of one server shares.
pub(crate) struct Shared<H> {
    pub(crate) handler: Arc<H>,
    pub(crate) config: Config,
    pub(crate) registry: Arc<Registry>,
    pub(crate) admission: Arc<Admission>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tasks: TaskTracker,
    pub(crate) started: Instant,
}

impl<H: Handler> Shared<H> {
    /// The client's address: the TCP peer that [`serve`](crate::serve) or
    /// axum's `ConnectInfo` names, or behind a trusted proxy the address
    /// it forwarded for (port 0).
    pub(crate) fn client_addr<B>(&self, request: &http::Request<B>) -> Option<SocketAddr> {
        let peer = tcp_peer(request)?;
        let proxies = &self.config.trusted_proxies;
        if !proxies.contains(peer.ip()) {
            return Some(peer);
        }
        Some(SocketAddr::new(
            proxies.client_ip(peer.ip(), request.headers()),
            0,
        ))
    }

    /// Milliseconds since the server started: the rate limiter's clock.
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

impl<H: Handler> Xws<H> {
    /// Serves `handler` with the default [`Config`].
    pub fn new(handler: H) -> Self {
        Self::with_config(handler, Config::default())
    }

    /// Serves `handler` with `config`.
    ///
    /// A handler whose [`Handler::NEEDS`] a Tokio server cannot give (see
    /// `adapters-matrix.md`) does not compile.
    pub fn with_config(handler: H, config: Config) -> Self {
        const { xws::caps::check::<xws::caps::Tokio, H>() };
        Self {
            shared: Arc::new(Shared {
                handler: Arc::new(handler),
                admission: Arc::new(Admission::new(&config.limits, config.ipv6_prefix_len)),
                registry: Arc::new(Registry::new(config.limits.max_topics_per_peer)),
                config,
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
                started: Instant::now(),
            }),
        }
    }

    /// Joins the topics of other nodes through `broker` (for example
    /// `xws-redis`): publications, broadcasts and `send_to` reach peers on
    /// every node. Call once, before serving; a second broker is ignored.
    pub fn with_broker(self, broker: Arc<dyn Broker>) -> Self {
        let registry = Arc::downgrade(&self.shared.registry);
        let node = self.shared.registry.node();
        if self.shared.registry.set_broker(Arc::clone(&broker)) {
            broker.start(
                node,
                Arc::new(move |envelope| {
                    if let Some(registry) = registry.upgrade() {
                        registry.deliver(envelope);
                    }
                }),
            );
        } else {
            tracing::warn!("a broker is already attached; ignoring the second one");
        }
        self
    }

    /// Keeps history and presence for the topics `config` names, in this
    /// process's memory (see [`xws::stream`]): clients that reconnect to
    /// this process recover what they missed. Several nodes share them
    /// through a shared store instead ([`with_stream_store`](Self::with_stream_store)).
    /// Call once, before serving, inside the Tokio runtime.
    ///
    /// ```no_run
    /// # #[derive(Default)] struct Chat;
    /// # impl xws::Handler for Chat { type Context = (); }
    /// # async fn demo() {
    /// use std::time::Duration;
    /// use xws::stream::{Retention, StreamConfig, TopicPolicy};
    /// let rooms = TopicPolicy::history(Retention::new(100, Duration::from_secs(300))).with_presence();
    /// let xws = xws_tokio::Xws::new(Chat).with_streams(StreamConfig::new().rule("room:*", rooms));
    /// # }
    /// ```
    pub fn with_streams(self, config: StreamConfig) -> Self {
        self.with_stream_store(config, Arc::new(MemoryStore::new(random_epoch())))
    }

    /// Keeps history and presence for the topics `config` names in
    /// `store`. A store shared by several nodes (`xws_redis::RedisStreams`)
    /// lets a client recover on any node and spans presence across them.
    /// Call once, before serving, inside the Tokio runtime; a second call
    /// is ignored.
    pub fn with_stream_store(self, config: StreamConfig, store: Arc<dyn StreamStore>) -> Self {
        let registry = &self.shared.registry;
        if registry.streams().is_some() {
            tracing::warn!("streams are already configured; ignoring the second store");
            return self;
        }
        let engine = Engine::start(config, store, registry);
        registry.set_streams(engine);
        self
    }

    /// The hub: publish, broadcast and send from outside a connection.
    pub fn hub(&self) -> Hub {
        Hub::new(self.shared.registry.clone())
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.shared.handler
    }

    /// The service that upgrades requests to WebSocket peers.
    pub fn ws(&self) -> WsService<H> {
        WsService::new(self.clone())
    }

    /// The service that streams topics as Server-Sent Events
    /// (`GET ?topic=a&topic=b`).
    pub fn sse(&self) -> SseService<H> {
        SseService::new(self.clone())
    }

    /// The SSE + POST fallback for clients that cannot open a WebSocket:
    /// full peers of the same handler. Mount the one service on one path
    /// (its clones share sessions); see [`FallbackService`].
    pub fn fallback(&self) -> FallbackService<H> {
        FallbackService::new(self.clone())
    }

    /// Connections counted against the limits: every TCP connection
    /// [`serve`](crate::serve) or [`serve_app`](crate::serve_app) accepted
    /// (whatever it carries, from accept to close), and WebSocket peers and
    /// SSE streams on connections a server of your own accepted.
    pub fn connections(&self) -> usize {
        self.shared.admission.open()
    }

    /// Listed WebSocket peers.
    pub fn peer_count(&self) -> usize {
        self.shared.registry.peer_count()
    }

    /// Topics with at least one local subscriber.
    pub fn topic_count(&self) -> usize {
        self.shared.registry.topic_count()
    }

    /// WebSocket connection tasks still running, closing ones included: it
    /// reaches 0 once every connection has ended, so tests and health checks
    /// can tell that no task leaked.
    pub fn tasks(&self) -> usize {
        self.shared.tasks.len()
    }

    /// Closes every peer with 1001 (Going Away) after delivering what was
    /// already queued for it, lets running hooks finish, and waits for the
    /// connections to end, at most [`Config::shutdown_timeout`]. New
    /// upgrades are refused with 503 from the moment it is called.
    pub async fn shutdown(&self) {
        self.shared.shutdown.cancel();
        // A connection that starts after this sees the token cancelled.
        self.shared
            .registry
            .close_websockets(&crate::connection::shutdown_frame());
        self.shared.tasks.close();
        let timeout = self.shared.config.shutdown_timeout;
        if tokio::time::timeout(timeout, self.shared.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                remaining = self.shared.tasks.len(),
                "shutdown timed out; remaining connections are dropped"
            );
        }
    }
}

/// The TCP peer of `request`'s connection, where the server says.
fn tcp_peer<B>(request: &http::Request<B>) -> Option<SocketAddr> {
    if let Some(crate::RemoteAddr(addr)) = request.extensions().get() {
        return Some(*addr);
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(*addr);
    }
    None
}
