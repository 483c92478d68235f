//! Running an [`Xws`] server on a `TcpListener` without a framework.

use http::{Request, StatusCode, header};
use hyper::body::Incoming;
use std::{
    convert::Infallible,
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
};
use tokio::net::{TcpListener, TcpSocket};
use tower_service::Service;
use xws::Handler;

use crate::{
    Xws,
    accept::{self, Upgrades},
    handshake::plain,
    sse,
};

/// The client's address, put in request extensions by [`serve`] and
/// [`serve_app`] (axum's `ConnectInfo` is read as well).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

/// Connections waiting to be accepted. Tokio's default (1,024) overflows
/// when thousands of clients connect at once.
const LISTEN_BACKLOG: u32 = 8192;

/// Binds a listener with a large backlog, ready for thousands of clients
/// connecting at once.
pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Binds [`listen`] on `127.0.0.1:$PORT`, or on `default_port` when `PORT`
/// is unset: the way the examples, and platforms such as Heroku, Cloud Run
/// and Fly, name the port. A `PORT` that is not a port number, or an
/// address that cannot be bound, is an error that names it.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let listener = xws_tokio::listen_on_port_env(3000)?;
/// println!("listening on http://{}", listener.local_addr()?);
/// # Ok(()) }
/// ```
pub fn listen_on_port_env(default_port: u16) -> io::Result<TcpListener> {
    let port = match std::env::var("PORT") {
        Ok(value) => value.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("PORT must be a port number, not {value:?}"),
            )
        })?,
        Err(_) => default_port,
    };
    let addr = SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port));
    listen(addr)
        .map_err(|error| io::Error::new(error.kind(), format!("cannot listen on {addr}: {error}")))
}

/// Serves `xws` on `listener` until `shutdown` resolves, then shuts down
/// gracefully (see [`Xws::shutdown`]).
///
/// Every path accepts WebSocket upgrades; a `GET` with
/// `Accept: text/event-stream` opens an SSE stream of the `?topic=`s; other
/// requests get 426 Upgrade Required.
///
/// The first request of each connection is read without hyper, so an
/// upgrade costs a buffer sized for its head rather than hyper's two 8 KiB
/// buffers; hyper answers everything else, with the same checks.
///
/// Each TCP connection counts against the connection limits from the
/// moment it is accepted (over them it is answered 503 or 429 and closed),
/// must send its request headers within [`Config::header_read_timeout`],
/// and has its writes bounded by [`Config::write_timeout`]
/// (see [`serve_app`] for an axum app).
///
/// [`Config::header_read_timeout`]: crate::Config::header_read_timeout
/// [`Config::write_timeout`]: crate::Config::write_timeout
pub async fn serve<H: Handler>(
    listener: TcpListener,
    xws: Xws<H>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let routes = Routes { xws: xws.clone() };
    accept::serve_connections(listener, xws, routes, Upgrades::Directly, shutdown).await
}

/// Serves an axum `app` that mounts `xws`'s services, with the protections
/// of [`serve`]: connections counted against `xws`'s limits from accept,
/// the header-read and write timeouts, and the client's address in every
/// request (as axum's `ConnectInfo<SocketAddr>` too), so
/// `max_connections_per_ip` always knows whom it counts. On `shutdown`,
/// requests in flight finish, then [`Xws::shutdown`] closes the peers.
///
/// ```no_run
/// # use xws::Handler;
/// # #[derive(Default)] struct Chat;
/// # impl Handler for Chat { type Context = (); }
/// # async fn run() -> std::io::Result<()> {
/// let xws = xws_tokio::Xws::new(Chat);
/// let app = axum::Router::new().route_service("/ws", xws.ws());
/// let listener = xws_tokio::listen("127.0.0.1:3000".parse().unwrap())?;
/// xws_tokio::serve_app(listener, xws, app, async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await
/// # }
/// ```
///
/// With an `axum::serve` of your own instead, give it
/// `app.into_make_service_with_connect_info::<SocketAddr>()` (without the
/// client's address a per-IP limit refuses every connection with 500), and
/// know that hyper then applies no header-read timeout, that connections
/// count only once they are upgraded, and that an SSE stream whose client
/// stops reading is freed only when TCP gives up.
#[cfg(feature = "axum")]
pub async fn serve_app<H: Handler>(
    listener: TcpListener,
    xws: Xws<H>,
    app: axum::Router,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    accept::serve_connections(listener, xws, app, Upgrades::ThroughService, shutdown).await
}

/// What [`serve`] answers on every path.
struct Routes<H: Handler> {
    xws: Xws<H>,
}

impl<H: Handler> Clone for Routes<H> {
    fn clone(&self) -> Self {
        Self {
            xws: self.xws.clone(),
        }
    }
}

impl<H: Handler> Service<Request<Incoming>> for Routes<H> {
    type Response = http::Response<crate::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let xws = self.xws.clone();
        Box::pin(async move { Ok(route(xws, request).await) })
    }
}

async fn route<H: Handler>(xws: Xws<H>, request: Request<Incoming>) -> http::Response<crate::Body> {
    if request.headers().contains_key(header::UPGRADE) {
        return match xws.ws().call(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    let wants_sse = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(xws::sse::CONTENT_TYPE));
    if wants_sse {
        return sse::stream(xws, request).await;
    }
    let mut response = plain(StatusCode::UPGRADE_REQUIRED, "this server speaks WebSocket");
    response
        .headers_mut()
        .insert(header::UPGRADE, http::HeaderValue::from_static("websocket"));
    response
}
