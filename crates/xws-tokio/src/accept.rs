//! Accepting TCP connections under the limits and the timeouts: what
//! [`serve`](crate::serve) and [`serve_app`](crate::serve_app) share.

use http::{Request, Response};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::{convert::Infallible, future::Future, io, pin::pin, sync::Arc, time::Duration};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower_service::Service;
use xws::{Handler, Reject};

use crate::{RemoteAddr, Xws, admission::ConnectionPermit, write_deadline::WriteDeadline};

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
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    H: Handler,
    S: Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
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
        let io = TokioIo::new(WriteDeadline::new(stream, config.write_timeout));
        let service = service.clone();
        let service = service_fn(move |mut request: Request<Incoming>| {
            let extensions = request.extensions_mut();
            extensions.insert(RemoteAddr(remote));
            #[cfg(feature = "axum")]
            extensions.insert(axum::extract::ConnectInfo(remote));
            extensions.insert(permit.clone());
            service.clone().call(request)
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .serve_connection(io, service)
            .with_upgrades();
        let closing = closing.clone();
        connections.spawn(async move {
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
        });
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
