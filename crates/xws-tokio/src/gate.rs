//! The checks every connection passes before it exists, whatever its
//! transport (WebSocket, SSE stream, fallback session).

use http::{Request, Response, StatusCode};
use xws::{Accept, Handler, RequestInfo, Upgrade, adapter::decide_upgrade};

use crate::{
    Body, Xws,
    admission::Permit,
    app::Shared,
    handshake::{self, plain, rejection},
};

/// A request let through: what the handler knows of it, its connection
/// slot, and the handler's acceptance.
pub(crate) struct Admitted<C> {
    pub(crate) info: RequestInfo,
    pub(crate) permit: Permit,
    pub(crate) accepted: Accept<C>,
}

/// What the handler learns of `request`.
pub(crate) fn request_info<H: Handler, B>(request: &Request<B>) -> RequestInfo {
    handshake::request_info(request, Xws::<H>::remote_addr(request))
}

/// In order: shutdown (503), `Origin` (403), connection limits (503 or
/// 429), then the handler's `upgrade` hook (its status; 500 if it panics).
pub(crate) async fn admit<H: Handler>(
    shared: &Shared<H>,
    info: RequestInfo,
) -> Result<Admitted<H::Context>, Response<Body>> {
    if shared.shutdown.is_cancelled() {
        return Err(plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "server is shutting down",
        ));
    }
    if !shared.config.origins.allows(info.origin()) {
        tracing::info!(origin = ?info.origin(), "refused a connection from a disallowed origin");
        return Err(plain(StatusCode::FORBIDDEN, "origin not allowed"));
    }
    let permit = shared
        .admission
        .admit(info.remote_addr.map(|addr| addr.ip()))
        .map_err(rejection)?;
    match decide_upgrade(&*shared.handler, &info).await {
        Upgrade::Accept(accepted) => Ok(Admitted {
            info,
            permit,
            accepted,
        }),
        Upgrade::Reject(reject) => Err(rejection(reject)),
    }
}
