//! A plain Cloudflare Worker: no Durable Object, so nothing outlives a request.

use super::shared::cloudflare;
use crate::caps::{AdapterStatus, Capability::*, Cell, Column, DeploymentTarget};

const WEBSOCKETS: &str = "Cloudflare docs: workers/runtime-apis/websockets";
const LIMITS: &str = "Cloudflare docs: workers/platform/limits";
const USE_DO: &str = "use a Cloudflare Durable Object (xws-cloudflare)";
const WHY: &str = "a Worker cannot do I/O on behalf of another request (\"Cannot perform I/O on behalf of a different request\")";

/// The plain Cloudflare Worker's column.
pub const COLUMN: Column = Column {
    target: DeploymentTarget::CloudflareWorker,
    name: "Cloudflare Worker (no Durable Object)",
    also: "plain Worker",
    adapter: AdapterStatus::GuardOnly,
    cells: [
        Cell::limited(
            WebSocket,
            "one request per socket",
            "WebSocketPair + accept(); each socket is isolated in its own request",
            WEBSOCKETS,
        ),
        Cell::limited(
            Sse,
            "one request per stream",
            "a streamed response; no shared state",
            LIMITS,
        ),
        Cell::none(PubSubInstance, USE_DO, WHY, WEBSOCKETS),
        Cell::none(PubSubAcrossInstances, USE_DO, WHY, WEBSOCKETS),
        Cell::none(PublishFromOutside, USE_DO, WHY, WEBSOCKETS),
        Cell::none(
            PeersListing,
            USE_DO,
            "no request sees another request's sockets",
            WEBSOCKETS,
        ),
        cloudflare::BINARY,
        cloudflare::PROTOCOL_PING,
        Cell::none(
            HeartbeatWithoutWaking,
            "use a Durable Object with setWebSocketAutoResponse",
            "the request stays alive as long as its socket",
            WEBSOCKETS,
        ),
        Cell::none(
            Hibernation,
            "use a Durable Object (hibernation API)",
            "only Durable Objects hibernate sockets",
            WEBSOCKETS,
        ),
        Cell::limited(
            ContextSurvives,
            "one request",
            "in memory while the socket's request lives; nothing survives it",
            WEBSOCKETS,
        ),
        cloudflare::SEND_FROM_OPEN,
        Cell::limited(MaxMessageSize, "32 MiB", "received messages", LIMITS),
        Cell::limited(
            MaxConnectionDuration,
            "30 s CPU per request (up to 5 min)",
            "CPU time, not wall time; a deploy closes the sockets",
            LIMITS,
        ),
        Cell::full(IdleTimeout, "none documented", LIMITS),
        cloudflare::REMOTE_ADDRESS,
        cloudflare::SUBPROTOCOLS,
        cloudflare::COMPRESSION,
    ],
}
.checked();
