//! The answer to an upgrade request: accept it (with context) or reject it.

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

/// What the `upgrade` hook decides.
///
/// ```
/// use xws::{Reject, Upgrade};
/// let refused: Upgrade<()> = Reject::unauthorized("missing token").into();
/// assert!(matches!(refused, Upgrade::Reject(r) if r.status == 401));
/// ```
#[derive(Debug)]
pub enum Upgrade<C> {
    /// Open the connection.
    Accept(Accept<C>),
    /// Refuse it with an HTTP response; the peer never exists.
    Reject(Reject),
}

impl<C> Upgrade<C> {
    /// Accepts with `context`.
    pub fn accept(context: C) -> Self {
        Upgrade::Accept(Accept::new(context))
    }
}

impl<C: Default> Default for Upgrade<C> {
    fn default() -> Self {
        Upgrade::accept(C::default())
    }
}

/// An accepted upgrade: the peer's initial context and connection options.
#[derive(Debug)]
pub struct Accept<C> {
    /// The peer's initial context.
    pub context: C,
    /// Which instance hosts the peer where the runtime shards (a Cloudflare
    /// Durable Object name); `None` uses the adapter's default (the path).
    pub namespace: Option<String>,
    /// The subprotocol to answer in `Sec-WebSocket-Protocol`; it should be one
    /// the client offered, or browsers fail the connection.
    pub protocol: Option<String>,
    /// Extra headers on the `101 Switching Protocols` response.
    pub headers: HeaderMap,
}

impl<C> Accept<C> {
    /// Accepts with `context` and default options.
    pub fn new(context: C) -> Self {
        Self {
            context,
            namespace: None,
            protocol: None,
            headers: HeaderMap::new(),
        }
    }

    /// Sets the namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Selects a subprotocol.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = Some(protocol.into());
        self
    }

    /// Adds a response header; an invalid name or value is ignored.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            self.headers.append(n, v);
        }
        self
    }
}

impl<C> From<Accept<C>> for Upgrade<C> {
    fn from(accept: Accept<C>) -> Self {
        Upgrade::Accept(accept)
    }
}

/// A refused upgrade, answered with a plain HTTP response.
#[derive(Debug, Clone)]
pub struct Reject {
    /// The HTTP status (401, 403, 429, 503…).
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// A short plain-text body.
    pub body: String,
}

impl Reject {
    /// A rejection with `status` and `body`.
    pub fn new(status: StatusCode, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    /// 401 Unauthorized: missing or wrong credentials.
    pub fn unauthorized(body: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, body)
    }

    /// 403 Forbidden: known but not allowed (a disallowed Origin).
    pub fn forbidden(body: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, body)
    }

    /// 429 Too Many Requests.
    pub fn too_many_requests(body: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, body)
    }

    /// 503 Service Unavailable: the connection limit is reached.
    pub fn unavailable(body: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, body)
    }

    /// 503 with `Retry-After: 5`: the server holds
    /// [`Limits::max_connections`](crate::Limits::max_connections), the
    /// same answer on every adapter.
    pub fn server_full() -> Self {
        Self::unavailable("too many connections").header("retry-after", "5")
    }

    /// 429 with `Retry-After: 5`: the client's network holds
    /// [`Limits::max_connections_per_ip`](crate::Limits::max_connections_per_ip)
    /// (see [`Limits::network_of`](crate::Limits::network_of)). Like
    /// [`server_full`](Self::server_full), it tells the client when to try
    /// again: a place frees when one of its connections ends.
    pub fn too_many_from_address() -> Self {
        Self::too_many_requests("too many connections from this address").header("retry-after", "5")
    }

    /// Adds a response header; an invalid name or value is ignored.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            self.headers.append(n, v);
        }
        self
    }
}

impl<C> From<Reject> for Upgrade<C> {
    fn from(reject: Reject) -> Self {
        Upgrade::Reject(reject)
    }
}
