//! How an app configures the Cloudflare adapter.

use std::sync::Arc;
use std::time::Duration;

use xws::{Limits, OriginPolicy, RequestInfo, stream::StreamConfig};

/// Which Durable Object instance hosts a connection or an SSE stream.
#[derive(Clone, Default)]
pub enum Namespace {
    /// The URL path, such as `/rooms/lobby` (crossws does the same).
    #[default]
    Path,
    /// One object for everything: simple, and `broadcast` reaches every peer.
    Fixed(String),
    /// The value of a query parameter: `Query("user".into())` puts the
    /// connections of `?user=ada` in the object `ada`, one object per user
    /// (or per room with `?room=`). A request without it resolves to the
    /// empty name: refuse such requests in the `upgrade` hook.
    Query(String),
    /// Any name computed from the request, to shard rooms over objects.
    /// The `upgrade` hook's [`xws::Accept::namespace`] overrides it.
    Custom(Arc<dyn Fn(&RequestInfo) -> String>),
}

impl Namespace {
    /// The object name for `request`.
    pub fn resolve(&self, request: &RequestInfo) -> String {
        match self {
            Namespace::Path => request.path.clone(),
            Namespace::Fixed(name) => name.clone(),
            Namespace::Query(param) => request.query_param(param).unwrap_or_default().into_owned(),
            Namespace::Custom(pick) => pick(request),
        }
    }
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Namespace::Path => f.write_str("Path"),
            Namespace::Fixed(name) => f.debug_tuple("Fixed").field(name).finish(),
            Namespace::Query(param) => f.debug_tuple("Query").field(param).finish(),
            Namespace::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

/// A text message the runtime answers without waking the object: the
/// hibernation-friendly heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoResponse {
    /// The exact text frame a client sends.
    pub request: String,
    /// The exact text frame the runtime sends back.
    pub response: String,
}

impl AutoResponse {
    /// Answers `request` with `response`.
    pub fn new(request: impl Into<String>, response: impl Into<String>) -> Self {
        Self {
            request: request.into(),
            response: response.into(),
        }
    }
}

/// The browser client's heartbeat: [`xws::client::APP_PING`] answered with
/// [`xws::client::APP_PONG`], as every adapter answers it, so `xws.js`
/// never wakes a hibernated object to learn that its connection is alive.
impl Default for AutoResponse {
    fn default() -> Self {
        Self::new(xws::client::APP_PING, xws::client::APP_PONG)
    }
}

/// The adapter's settings; the Worker entry and the object must agree on them.
///
/// ```ignore
/// let config = Config::default()
///     .with_binding("CHAT")
///     .with_namespace(Namespace::Fixed("chat".into()));
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// The Durable Object binding in `wrangler.toml`.
    pub binding: String,
    /// How requests map to object instances.
    pub namespace: Namespace,
    /// Message size, rate and connection limits, as on every adapter.
    pub limits: Limits,
    /// The heartbeat the runtime answers without waking the object (by
    /// default the client's app ping, [`AutoResponse::default`]);
    /// protocol-level pings are always answered by the runtime too. With
    /// `None`, or another pair, the object's session still answers the app
    /// ping without calling the handler, but each one wakes the object.
    pub auto_response: Option<AutoResponse>,
    /// Which `Origin` headers may open a WebSocket or SSE stream, as
    /// `xws_tokio::Config::origins`: the Worker entry answers 403 to the
    /// others before the `upgrade` hook runs.
    pub origins: OriginPolicy,
    /// Write what [`xws::metrics`] recorded as `tracing` events (target
    /// `xws::metrics`, one per metric) at the end of every event the
    /// object handles: a Worker cannot be scraped, its logs can be read.
    /// Off by default.
    pub metrics_log: bool,
    /// Which topics keep history and presence (see [`xws::stream`]): the
    /// object keeps their history in its SQLite storage, so it survives
    /// hibernation and eviction, and their presence with its sockets.
    /// Empty by default: no streams, and the stream methods of a peer
    /// answer [`xws::Error::Unsupported`].
    pub streams: StreamConfig,
    /// How often the Worker writes a keep-alive comment on an idle SSE
    /// stream (15 s by default, as xws-tokio's `sse_keep_alive`): proxies
    /// close silent streams, and a write that fails is how the Worker
    /// learns its client left, closes the stream's socket and frees its
    /// place in the object's connection limits.
    pub sse_keep_alive: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            binding: "XWS".into(),
            namespace: Namespace::Path,
            limits: Limits::default(),
            auto_response: Some(AutoResponse::default()),
            origins: OriginPolicy::Any,
            metrics_log: false,
            streams: StreamConfig::new(),
            sse_keep_alive: Duration::from_secs(15),
        }
    }
}

impl Config {
    /// Uses the Durable Object binding `binding`.
    pub fn with_binding(mut self, binding: impl Into<String>) -> Self {
        self.binding = binding.into();
        self
    }

    /// Routes requests with `namespace`.
    pub fn with_namespace(mut self, namespace: Namespace) -> Self {
        self.namespace = namespace;
        self
    }

    /// Applies `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Allows only the origins `origins` lets through (403 for others).
    pub fn with_origins(mut self, origins: OriginPolicy) -> Self {
        self.origins = origins;
        self
    }

    /// Logs the xws metrics after every event ([`Config::metrics_log`]).
    pub fn with_metrics_log(mut self, on: bool) -> Self {
        self.metrics_log = on;
        self
    }

    /// Keeps history and presence for the topics `streams` names
    /// ([`Config::streams`]).
    pub fn with_streams(mut self, streams: StreamConfig) -> Self {
        self.streams = streams;
        self
    }

    /// Writes a keep-alive on idle SSE streams every `interval` (at least
    /// 1 s; [`Config::sse_keep_alive`]).
    pub fn with_sse_keep_alive(mut self, interval: Duration) -> Self {
        self.sse_keep_alive = interval.max(Duration::from_secs(1));
        self
    }

    /// Sets (or with `None` removes) the runtime-answered heartbeat.
    pub fn with_auto_response(mut self, auto_response: Option<AutoResponse>) -> Self {
        self.auto_response = auto_response;
        self
    }
}
