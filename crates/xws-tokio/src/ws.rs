//! The WebSocket endpoint as a `tower` service (for axum and hyper), and
//! the decision it shares with the direct upgrades of
//! [`serve`](crate::serve).

use http::{Request, Response};
use hyper_util::rt::TokioIo;
use std::{future::Future, sync::Arc};
use tokio::{io::AsyncWriteExt, net::TcpStream};
use tokio_util::either::Either;
use xws::{Handler, RequestInfo};

use crate::{
    Body, Xws,
    admission::Permits,
    app::Shared,
    connection::{self, Stream},
    deflate::{self, Negotiated},
    gate::{self, Admitted},
    handshake,
    service::endpoint_service,
};

/// Upgrades requests to WebSocket peers of one handler.
///
/// Mount it with `axum::Router::route_service("/ws", xws.ws())`, or let
/// [`serve`](crate::serve) use it for every path. Before the upgrade it
/// checks, in order: that the request is an upgrade (400/405/426), the
/// `Origin` (403), the connection limits (503/429), then the handler's
/// `upgrade` hook (its status).
pub struct WsService<H: Handler> {
    xws: Xws<H>,
}

endpoint_service!(WsService, accept);

/// An upgrade that passed every check: the `101` to answer, and what its
/// connection starts with.
pub(crate) struct Upgrading<C> {
    pub(crate) response: Response<Body>,
    connection: NewConnection<C>,
}

/// What a connection starts with once its `101` is sent.
struct NewConnection<C> {
    info: RequestInfo,
    context: C,
    permit: Permits,
    deflate: Option<Negotiated>,
}

/// Every check of a WebSocket upgrade, whichever path read the request:
/// the `101` with the connection's start, or the refusal to answer.
/// `request` is taken apart before the future (its headers move to what
/// the handler sees), so its body type need not be `Sync`.
pub(crate) fn decide<H: Handler, B>(
    shared: &Arc<Shared<H>>,
    request: Request<B>,
) -> impl Future<Output = Result<Upgrading<H::Context>, Response<Body>>> + Send + 'static {
    let key = handshake::validate(&request);
    let deflate = shared
        .config
        .permessage_deflate
        .then(|| deflate::negotiate(request.headers()))
        .flatten();
    let arrival = gate::arrival_of(shared, request);
    let shared = Arc::clone(shared);
    async move {
        let key = key?;
        let Admitted {
            info,
            permit,
            accepted,
        } = gate::admit(&shared, arrival).await?;
        let mut headers = accepted.headers;
        if let Some(negotiated) = &deflate {
            headers.insert(
                http::header::SEC_WEBSOCKET_EXTENSIONS,
                negotiated.response(),
            );
        }
        let response = handshake::switching_protocols(&key, accepted.protocol.as_deref(), headers);
        Ok(Upgrading {
            response,
            connection: NewConnection {
                info,
                context: accepted.context,
                permit,
                deflate,
            },
        })
    }
}

impl<C> NewConnection<C> {
    /// Starts the connection on `stream` in a task of its own, sized for
    /// the connection alone.
    fn start<H: Handler<Context = C>>(self, shared: Arc<Shared<H>>, stream: Stream)
    where
        H::Context: Send,
    {
        let tasks = shared.tasks.clone();
        let connection = connection::open(
            shared,
            stream,
            self.info,
            self.context,
            self.permit,
            self.deflate,
        );
        tasks.spawn(connection.run());
    }
}

/// The hyper path: answers the `101` through hyper, and starts the
/// connection once hyper hands the upgraded stream over.
async fn accept<H: Handler, B: Send + 'static>(
    xws: Xws<H>,
    mut request: Request<B>,
) -> Response<Body> {
    // Taken before the request goes to `decide`; a refusal drops it.
    let on_upgrade = hyper::upgrade::on(&mut request);
    let upgrading = match decide(&xws.shared, request).await {
        Ok(upgrading) => upgrading,
        Err(refusal) => return refusal,
    };
    let Upgrading {
        response,
        connection,
    } = upgrading;
    let shared = Arc::clone(&xws.shared);
    xws.shared.tasks.spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => connection.start(shared, Either::Right(TokioIo::new(upgraded))),
            Err(error) => tracing::debug!(%error, "the client left during the upgrade"),
        }
    });
    response
}

/// The direct path of [`serve`](crate::serve): writes the `101` on the TCP
/// stream itself and starts the connection on it.
pub(crate) async fn upgrade_directly<H: Handler>(
    shared: Arc<Shared<H>>,
    mut stream: TcpStream,
    upgrading: Upgrading<H::Context>,
) {
    let head = handshake::response_head(&upgrading.response);
    let written = tokio::time::timeout(shared.config.write_timeout, stream.write_all(&head)).await;
    match written {
        Ok(Ok(())) => {
            let mut connection = upgrading.connection;
            connection.permit.unshare();
            connection.start(shared, Either::Left(stream));
        }
        Ok(Err(error)) => tracing::debug!(%error, "the client left during the upgrade"),
        Err(_) => tracing::debug!("the client did not read the upgrade's answer"),
    }
}
