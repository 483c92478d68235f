//! Running an [`Xws`] server on a `TcpListener` without a framework.

use http::{Request, StatusCode, header};
use hyper::{body::Incoming, service::service_fn};
use hyper_util::rt::TokioIo;
use std::{convert::Infallible, future::Future, io, net::SocketAddr, time::Duration};
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::task::TaskTracker;
use tower_service::Service;
use xws::Handler;

use crate::{Xws, handshake::plain, sse};

/// The client's address, put in request extensions by [`serve`] (axum's
/// `ConnectInfo` is read as well).
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
pub async fn serve<H: Handler>(
    listener: TcpListener,
    xws: Xws<H>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let http_connections = TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let xws = xws.clone();
        let service = service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(RemoteAddr(remote));
            let xws = xws.clone();
            async move { Ok::<_, Infallible>(route(xws, request).await) }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        http_connections.spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "HTTP connection error");
            }
        });
    }
    xws.shutdown().await;
    // SSE streams end on shutdown; give their HTTP connections a moment.
    http_connections.close();
    let _ = tokio::time::timeout(Duration::from_secs(1), http_connections.wait()).await;
    Ok(())
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
