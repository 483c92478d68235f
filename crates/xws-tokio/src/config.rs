//! Server configuration.

use std::time::Duration;
use xws::{Limits, OriginPolicy};

use crate::TrustedProxies;

/// Everything configurable about an [`Xws`](crate::Xws) server.
///
/// ```
/// use std::time::Duration;
/// let config = xws_tokio::Config {
///     shutdown_timeout: Duration::from_secs(5),
///     ..Default::default()
/// };
/// assert_eq!(config.read_buffer_size, 4096);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// Limits enforced on every peer.
    pub limits: Limits,
    /// Allowed `Origin`s; a disallowed one gets HTTP 403 before the upgrade.
    pub origins: OriginPolicy,
    /// No longer used, kept so configurations still compile: a WebSocket
    /// connection has no read buffer of its own any more (it reads into
    /// one buffer per thread and keeps bytes only while a frame or message
    /// is incomplete), so an idle connection holds none.
    pub read_buffer_size: usize,
    /// Interval of SSE keep-alive comments (proxies close silent streams).
    pub sse_keep_alive: Duration,
    /// The `retry:` an SSE stream suggests to `EventSource`.
    pub sse_retry: Duration,
    /// How long graceful shutdown waits for peers to close.
    pub shutdown_timeout: Duration,
    /// How long a client may take to send a request's headers, from the
    /// moment its connection is accepted or its previous request answered:
    /// a silent or slow-header socket is closed after it, and so is an idle
    /// keep-alive connection. On connections accepted by
    /// [`serve`](crate::serve) and [`serve_app`](crate::serve_app); with an
    /// `axum::serve` of your own, hyper's default applies (no timeout).
    pub header_read_timeout: Duration,
    /// How long a write to a client may make no progress (not one byte
    /// taken by the socket) before the connection is ended and its memory
    /// released: a reader that never reads, or is gone without a TCP reset.
    /// A WebSocket peer's `close` hook then sees 1013. Applies to WebSocket
    /// peers everywhere, and to SSE streams and plain HTTP responses on
    /// connections accepted by [`serve`](crate::serve) or
    /// [`serve_app`](crate::serve_app).
    pub write_timeout: Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client (none by
    /// default). Behind a proxy, every client has the proxy's address:
    /// list it here so that `max_connections_per_ip` and
    /// [`RequestInfo::remote_addr`](xws::RequestInfo::remote_addr) see the
    /// client.
    pub trusted_proxies: TrustedProxies,
    /// IPv6 clients count against `max_connections_per_ip` by network of
    /// this prefix length: 64 by default, since one customer usually holds
    /// a whole /64 (128 counts each address).
    pub ipv6_prefix_len: u8,
    /// Answer the app-level ping ([`APP_PING`](crate::APP_PING)) with
    /// [`APP_PONG`](crate::APP_PONG) without calling the handler. Browsers
    /// cannot send protocol pings, so this is how `xws.js` finds dead
    /// connections.
    pub answer_app_ping: bool,
    /// Compress WebSocket messages with permessage-deflate (RFC 7692) for
    /// clients that offer it (every browser does); off by default.
    ///
    /// The server answers `server_no_context_takeover` and
    /// `client_no_context_takeover` (RFC 7692 lets it): every message is
    /// compressed on its own, so a publication is compressed once and the
    /// same frame goes to every subscriber that agreed to the same window,
    /// and no connection holds a compressor's memory. Messages under 32
    /// bytes, and those that do not shrink, go out plain (allowed per
    /// message). Compression costs CPU per message and saves bandwidth:
    /// worth it for text that travels over the internet, less so on a
    /// fast network (`cargo xtask bench` measures both).
    ///
    /// ```
    /// let config = xws_tokio::Config {
    ///     permessage_deflate: true,
    ///     ..Default::default()
    /// };
    /// # let _ = config;
    /// ```
    pub permessage_deflate: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            origins: OriginPolicy::Any,
            read_buffer_size: 4096,
            sse_keep_alive: Duration::from_secs(15),
            sse_retry: Duration::from_secs(3),
            shutdown_timeout: Duration::from_secs(10),
            answer_app_ping: true,
            permessage_deflate: false,
            write_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            trusted_proxies: TrustedProxies::default(),
            ipv6_prefix_len: xws::Limits::DEFAULT_IPV6_PREFIX_LEN,
        }
    }
}
