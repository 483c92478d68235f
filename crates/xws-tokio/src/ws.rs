//! The WebSocket endpoint as a `tower` service (for axum and hyper).

use futures_util::FutureExt;
use http::{Request, Response, StatusCode};
use std::{
    convert::Infallible,
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};
use xws::{Handler, Upgrade};

use crate::{
    Body, Xws, connection,
    handshake::{self, plain, rejection},
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

impl<H: Handler> Clone for WsService<H> {
    fn clone(&self) -> Self {
        Self {
            xws: self.xws.clone(),
        }
    }
}

impl<H: Handler> WsService<H> {
    pub(crate) fn new(xws: Xws<H>) -> Self {
        Self { xws }
    }
}

impl<H: Handler, B: Send + 'static> tower_service::Service<Request<B>> for WsService<H> {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let xws = self.xws.clone();
        Box::pin(async move { Ok(accept(xws, request).await) })
    }
}

async fn accept<H: Handler, B: Send + 'static>(
    xws: Xws<H>,
    mut request: Request<B>,
) -> Response<Body> {
    let shared = &xws.shared;
    if shared.shutdown.is_cancelled() {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down");
    }
    let key = match handshake::validate(&request) {
        Ok(key) => key,
        Err(response) => return response,
    };
    let info = handshake::request_info(&request, Xws::<H>::remote_addr(&request));
    if !shared.config.origins.allows(info.origin()) {
        tracing::info!(origin = ?info.origin(), "refused an upgrade from a disallowed origin");
        return plain(StatusCode::FORBIDDEN, "origin not allowed");
    }
    let permit = match shared
        .admission
        .admit(info.remote_addr.map(|addr| addr.ip()))
    {
        Ok(permit) => permit,
        Err(reject) => return rejection(reject),
    };
    let decision = match AssertUnwindSafe(shared.handler.upgrade(&info))
        .catch_unwind()
        .await
    {
        Ok(decision) => decision,
        Err(_) => {
            tracing::error!(path = %info.path, "the upgrade hook panicked");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "internal server error");
        }
    };
    let accepted = match decision {
        Upgrade::Accept(accepted) => accepted,
        Upgrade::Reject(reject) => return rejection(reject),
    };
    let on_upgrade = hyper::upgrade::on(&mut request);
    let response =
        handshake::switching_protocols(&key, accepted.protocol.as_deref(), accepted.headers);
    let shared = Arc::clone(&xws.shared);
    xws.shared.tasks.spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => connection::run(shared, upgraded, info, accepted.context, permit).await,
            Err(error) => tracing::debug!(%error, "the client left during the upgrade"),
        }
    });
    response
}
