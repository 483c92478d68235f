//! Accepting TCP connections under the limits and the timeouts: what
//! [`serve`](crate::serve) and [`serve_app`](crate::serve_app) share.

use bytes::Bytes;
use futures_util::{TryFutureExt, future::Either};
use http::{Request, Response};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::{
    cell::Cell, convert::Infallible, future::Future, io, net::SocketAddr, pin::pin, sync::Arc,
    time::Duration,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_service::Service;
use xws::{Handler, Reject};

use crate::{
    Config, RemoteAddr, Xws,
    admission::ConnectionPermit,
    app::Shared,
    head::{self, Head},
    replay::Replay,
    write_deadline::WriteDeadline,
    ws,
};

/// How long a refused connection may take to read its answer.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Accepts connections on `listener` and serves `service` on each, until
/// `shutdown` resolves; then lets requests in flight finish and shuts
/// `xws` down.
///
/// Each connection takes a slot in `xws`'s limits when accepted (its
/// requests carry it, so a peer on it counts once), must send its headers
/// within the header-read timeout, and has its writes bounded by the
/// write timeout.
pub(crate) async fn serve_connections<H, S, B>(
    listener: TcpListener,
    xws: Xws<H>,
    service: S,
    upgrades: Upgrades,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    H: Handler,
    S: ConnectionService<B>,
    B: ResponseBody,
{
    let shared = Arc::clone(&xws.shared);
    let config = &shared.config;
    let connections = TaskTracker::new();
    let closing = CancellationToken::new();
    let mut shutdown = pin!(shutdown);
    // Set while accepting fails, so that is logged once per episode.
    let mut failing = false;
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    if !std::mem::replace(&mut failing, true) {
                        tracing::warn!(%error, "accept failed; retrying every 50 ms");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if std::mem::replace(&mut failing, false) {
            tracing::info!("accepting connections again");
        }
        // Behind a trusted proxy the client is known only from its request.
        let ip = remote.ip();
        let client_ip = (!config.trusted_proxies.contains(ip)).then_some(ip);
        let permit = match shared.admission.admit(client_ip) {
            Ok(permit) => ConnectionPermit(Arc::new(permit)),
            Err(reject) => {
                connections.spawn(refuse(stream, reject));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let accepted = Accepted {
            stream,
            remote,
            permit,
        };
        connections.spawn(serve_connection(
            Arc::clone(&shared),
            accepted,
            service.clone(),
            upgrades,
            closing.clone(),
        ));
    }
    closing.cancel();
    connections.close();
    // SSE streams end on shutdown, which lets their connections close.
    let (_, drained) = tokio::join!(
        xws.shutdown(),
        tokio::time::timeout(config.shutdown_timeout, connections.wait())
    );
    if drained.is_err() {
        tracing::warn!(
            remaining = connections.len(),
            "shutdown timed out; remaining HTTP connections are dropped"
        );
    }
    Ok(())
}

/// A service hyper can serve on every connection, answering with `B`.
pub(crate) trait ConnectionService<B>:
    Service<Request<Incoming>, Response = Response<B>, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + 'static
{
}

impl<S, B> ConnectionService<B> for S where
    S: Service<
            Request<Incoming>,
            Response = Response<B>,
            Error = Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + 'static
{
}

/// A response body hyper can write.
pub(crate) trait ResponseBody:
    http_body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
    + Send
    + 'static
{
}

impl<B> ResponseBody for B where
    B: http_body::Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
        + Send
        + 'static
{
}

/// Who answers WebSocket upgrades.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Upgrades {
    /// xws, before hyper: the first request of each connection is read
    /// without hyper, and an upgrade is answered on the TCP stream itself
    /// (see [`head`](crate::head)). For [`serve`](crate::serve), whose
    /// every path upgrades.
    Directly,
    /// The service, through hyper (an axum app mounts `xws.ws()` where it
    /// likes).
    #[cfg(feature = "axum")]
    ThroughService,
}

/// A TCP connection let in under the limits.
struct Accepted {
    stream: TcpStream,
    remote: SocketAddr,
    permit: ConnectionPermit,
}

/// Serves one connection: a direct upgrade, or HTTP with hyper.
async fn serve_connection<H, S, B>(
    shared: Arc<Shared<H>>,
    accepted: Accepted,
    service: S,
    upgrades: Upgrades,
    closing: CancellationToken,
) where
    H: Handler,
    S: ConnectionService<B>,
    B: ResponseBody,
{
    let (accepted, first) = match upgrades {
        Upgrades::Directly => match upgrade_directly(&shared, accepted, &closing).await {
            Some(for_hyper) => for_hyper,
            None => return,
        },
        #[cfg(feature = "axum")]
        Upgrades::ThroughService => (accepted, FirstRequest::default()),
    };
    // Boxed: hyper's connection would otherwise size every connection's
    // task, the upgrades' included, and their short-lived cells fragment
    // the heap that lasting connections share.
    Box::pin(serve_http(
        &shared.config,
        accepted,
        first,
        service,
        closing,
    ))
    .await;
}

/// Reads the first head and answers it if it is a WebSocket upgrade the
/// checks let through; else returns what hyper is to serve. `None` when
/// the connection is upgraded, or closed.
async fn upgrade_directly<H: Handler>(
    shared: &Arc<Shared<H>>,
    mut accepted: Accepted,
    closing: &CancellationToken,
) -> Option<(Accepted, FirstRequest)> {
    let head = tokio::select! {
        head = head::read(&mut accepted.stream, shared.config.header_read_timeout) => head,
        () = closing.cancelled() => return None,
    };
    match head {
        Head::Gone => None,
        Head::Http(read) => Some((accepted, FirstRequest { read, answer: None })),
        // Boxed: what deciding and answering hold would otherwise size the
        // task of every connection still waiting for its head.
        Head::Upgrade { request, read } => {
            Box::pin(decide_directly(shared, accepted, *request, read)).await
        }
    }
}

/// Decides the upgrade `request` (its head is `read`), and answers it on
/// the stream if let through; else returns what hyper is to serve.
async fn decide_directly<H: Handler>(
    shared: &Arc<Shared<H>>,
    accepted: Accepted,
    mut request: Request<()>,
    read: Bytes,
) -> Option<(Accepted, FirstRequest)> {
    let extensions = request.extensions_mut();
    extensions.insert(RemoteAddr(accepted.remote));
    extensions.insert(accepted.permit.clone());
    match ws::decide(shared, request).await {
        Ok(upgrading) => {
            let Accepted { stream, permit, .. } = accepted;
            // The peer's permit is then the connection's only one.
            drop((read, permit));
            ws::upgrade_directly(Arc::clone(shared), stream, upgrading).await;
            None
        }
        // hyper reads the request again and answers it this, exactly as
        // its path would have.
        Err(refused) => Some((
            accepted,
            FirstRequest {
                read,
                answer: Some(refused),
            },
        )),
    }
}

/// What hyper starts with when [`serve_connection`] read the first head.
#[derive(Default)]
struct FirstRequest {
    /// The bytes read, which hyper reads again.
    read: Bytes,
    /// The answer already decided for that request (a refused upgrade).
    answer: Option<Response<crate::Body>>,
}

/// Serves HTTP on `accepted` with hyper until it closes.
async fn serve_http<S, B>(
    config: &Config,
    accepted: Accepted,
    first: FirstRequest,
    service: S,
    closing: CancellationToken,
) where
    S: ConnectionService<B>,
    B: ResponseBody,
{
    let Accepted {
        stream,
        remote,
        permit,
    } = accepted;
    let io = TokioIo::new(WriteDeadline::new(
        Replay::new(first.read, stream),
        config.write_timeout,
    ));
    // Taken by the first request when its answer is decided already.
    let decided = Cell::new(first.answer);
    let service = service_fn(move |mut request: Request<Incoming>| {
        if let Some(answer) = decided.take() {
            return Either::Left(std::future::ready(Ok(
                answer.map(http_body_util::Either::Right)
            )));
        }
        let extensions = request.extensions_mut();
        extensions.insert(RemoteAddr(remote));
        #[cfg(feature = "axum")]
        extensions.insert(axum::extract::ConnectInfo(remote));
        extensions.insert(permit.clone());
        Either::Right(
            service
                .clone()
                .call(request)
                .map_ok(|response| response.map(http_body_util::Either::Left)),
        )
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .serve_connection(io, service)
        .with_upgrades();
    let mut connection = pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = closing.cancelled() => {
            // The request in flight, if any, is answered first.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(%error, %remote, "HTTP connection ended with an error");
    }
}

/// Answers a connection over the limits with `reject` (503 or 429) and
/// closes it, giving the client a moment to read the answer.
async fn refuse(mut stream: TcpStream, reject: Reject) {
    let status = reject.status;
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: text/plain; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        reject.body.len()
    );
    for (name, value) in &reject.headers {
        if let Ok(value) = value.to_str() {
            answer.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    answer.push_str("\r\n");
    answer.push_str(&reject.body);
    let answered = async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        // Closing with the request unread would reset the connection, and
        // the client might lose the answer: read until it closes.
        let mut unread = [0u8; 1024];
        while stream.read(&mut unread).await? > 0 {}
        Ok::<_, io::Error>(())
    };
    let _ = tokio::time::timeout(REFUSAL_LINGER, answered).await;
}
