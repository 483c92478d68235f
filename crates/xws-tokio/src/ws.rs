//! The WebSocket endpoint as a `tower` service (for axum and hyper).

use http::{Request, Response};
use std::sync::Arc;
use xws::Handler;

use crate::{
    Body, Xws, connection, deflate,
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

async fn accept<H: Handler, B: Send + 'static>(
    xws: Xws<H>,
    mut request: Request<B>,
) -> Response<Body> {
    let key = match handshake::validate(&request) {
        Ok(key) => key,
        Err(response) => return response,
    };
    let admitted = match gate::admit(&xws.shared, gate::arrival(&xws.shared, &request)).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let Admitted {
        info,
        permit,
        accepted,
    } = admitted;
    let deflate = xws
        .shared
        .config
        .permessage_deflate
        .then(|| deflate::negotiate(request.headers()))
        .flatten();
    let on_upgrade = hyper::upgrade::on(&mut request);
    let mut headers = accepted.headers;
    if let Some(negotiated) = &deflate {
        headers.insert(
            http::header::SEC_WEBSOCKET_EXTENSIONS,
            negotiated.response(),
        );
    }
    let response = handshake::switching_protocols(&key, accepted.protocol.as_deref(), headers);
    let shared = Arc::clone(&xws.shared);
    xws.shared.tasks.spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let tasks = shared.tasks.clone();
                let connection =
                    connection::open(shared, upgraded, info, accepted.context, permit, deflate);
                // A task of its own, sized for the connection alone: this
                // one (the request's data, the upgrade) ends here.
                tasks.spawn(connection.run());
            }
            Err(error) => tracing::debug!(%error, "the client left during the upgrade"),
        }
    });
    response
}
