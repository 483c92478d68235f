//! Connection limits in a Durable Object. A WebSocket peer and an SSE
//! stream are both sockets the object holds (a stream's socket comes from
//! the Worker that serves it), so both count against
//! `Limits::max_connections` (503) and, through the `ip:{network}` tag
//! their socket carries, `Limits::max_connections_per_ip` (429), as
//! xws-tokio counts both. The count needs no state of its own: the tags
//! outlive hibernation with their sockets, and a socket that closes (a
//! client that leaves, a stream that ends) frees its place.

use worker::{State, WebSocket};
use xws::{Limits, Reject, RequestInfo};

/// Admits one more socket for the client of `info`: its network's tag when
/// there is a per-IP limit, or the refusal when the object holds as many
/// sockets as `limits` allow (in all, or from that network). Sockets of one
/// network on other objects are not counted: each object sees its own.
pub(crate) fn admit(
    state: &State,
    limits: &Limits,
    info: &RequestInfo,
) -> Result<Option<String>, Reject> {
    if state.get_websockets().len() >= limits.max_connections {
        tracing::debug!(
            max = limits.max_connections,
            "connection limit: refused with 503"
        );
        return Err(Reject::server_full());
    }
    let Some(max) = limits.max_connections_per_ip else {
        return Ok(None);
    };
    let Some(addr) = info.remote_addr else {
        // Refused rather than counting nothing (as on Tokio).
        tracing::error!(
            "max_connections_per_ip is set but the request has no CF-Connecting-IP; refusing with 500"
        );
        return Err(Reject::new(
            xws::http::StatusCode::INTERNAL_SERVER_ERROR,
            "server misconfigured: the client's address is unknown",
        ));
    };
    let network = Limits::network_of(addr.ip(), Limits::DEFAULT_IPV6_PREFIX_LEN);
    let tag = format!("ip:{network}");
    if state.get_websockets_with_tag(&tag).len() >= max {
        tracing::debug!(%network, max, "per-IP connection limit: refused with 429");
        return Err(Reject::too_many_from_address());
    }
    Ok(Some(tag))
}

/// Accepts `socket` as hibernatable, carrying the tag [`admit`] returned.
pub(crate) fn accept(state: &State, socket: &WebSocket, network_tag: Option<&str>) {
    match network_tag {
        Some(tag) => state.accept_websocket_with_tags(socket, &[tag]),
        None => state.accept_web_socket(socket),
    }
}
