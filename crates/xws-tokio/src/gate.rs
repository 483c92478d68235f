//! The checks every connection passes before it exists, whatever its
//! transport (WebSocket, SSE stream, fallback session).

use http::{Request, Response, StatusCode};
use xws::{Accept, Handler, RequestInfo, Upgrade, adapter::decide_upgrade};

use crate::{
    Body,
    admission::{ConnectionPermit, Permits},
    app::Shared,
    handshake::{self, plain, rejection},
};

/// A request let through: what the handler knows of it, its slots in the
/// connection limits, and the handler's acceptance.
pub(crate) struct Admitted<C> {
    pub(crate) info: RequestInfo,
    pub(crate) permit: Permits,
    pub(crate) accepted: Accept<C>,
}

/// A request at the door: what the handler learns of it, and the slot its
/// TCP connection took when [`serve`](crate::serve) accepted it.
pub(crate) struct Arrival {
    info: RequestInfo,
    connection: Option<ConnectionPermit>,
}

/// Reads what [`admit`] needs from `request` (taken apart before any
/// await, so the request body type need not be `Sync`).
pub(crate) fn arrival<H: Handler, B>(shared: &Shared<H>, request: &Request<B>) -> Arrival {
    Arrival {
        info: handshake::request_info(request, shared.client_addr(request)),
        connection: request.extensions().get::<ConnectionPermit>().cloned(),
    }
}

/// [`arrival`] of a request no longer needed: its headers and its
/// connection's slot move to what [`admit`] sees, rather than copies.
pub(crate) fn arrival_of<H: Handler, B>(shared: &Shared<H>, mut request: Request<B>) -> Arrival {
    let remote_addr = shared.client_addr(&request);
    let connection = request.extensions_mut().remove::<ConnectionPermit>();
    let (parts, _) = request.into_parts();
    Arrival {
        info: handshake::request_info_with(&parts.uri, parts.headers, remote_addr),
        connection,
    }
}

/// In order: shutdown (503), `Origin` (403), connection limits (503 or
/// 429; 500 when a per-IP limit is set and the client's address is
/// unknown), then the handler's `upgrade` hook (its status; 500 if it
/// panics).
pub(crate) async fn admit<H: Handler>(
    shared: &Shared<H>,
    arrival: Arrival,
) -> Result<Admitted<H::Context>, Response<Body>> {
    let Arrival { info, connection } = arrival;
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
        .admit_peer(info.remote_addr.map(|addr| addr.ip()), connection)
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
