//! Netlify functions: short SSE streams, no WebSockets.

use crate::caps::{AdapterStatus, Capability::*, Cell, Column, DeploymentTarget};

const CONFIG: &str = "Netlify docs: functions/configuration";
const BROKER: &str = "publish through a hosted broker (Redis pub/sub), or move real-time to a Cloudflare Durable Object or AWS API Gateway";
const INVOCATIONS: &str = "functions do not share memory across invocations";
const NO_WS: &str = "WebSocket only; functions have no WebSockets";

/// The Netlify column.
pub const COLUMN: Column = Column {
    target: DeploymentTarget::Netlify,
    name: "Netlify functions",
    also: "Netlify",
    adapter: AdapterStatus::GuardOnly,
    cells: [
        Cell::none(
            WebSocket,
            "use SSE, a Cloudflare Durable Object, or AWS API Gateway WebSocket",
            "no WebSockets on functions; the early-access long-lived product is not for Rust functions",
            CONFIG,
        ),
        Cell::limited(
            Sse,
            "60 s, 20 MB per stream",
            "streamed responses of synchronous functions; background functions cannot stream",
            CONFIG,
        ),
        Cell::none(PubSubInstance, BROKER, INVOCATIONS, CONFIG),
        Cell::none(PubSubAcrossInstances, BROKER, INVOCATIONS, CONFIG),
        Cell::none(PublishFromOutside, BROKER, INVOCATIONS, CONFIG),
        Cell::none(
            PeersListing,
            "keep a registry of streams in a database",
            INVOCATIONS,
            CONFIG,
        ),
        Cell::emulated(
            Binary,
            "base64 in an `event: binary` SSE event (xws::sse::encode_message)",
            "",
            "xws::sse",
        ),
        Cell::none(ProtocolPing, "SSE keep-alive comments (xws::sse::comment)", NO_WS, CONFIG),
        Cell::none(
            HeartbeatWithoutWaking,
            "use a Cloudflare Durable Object",
            "the function runs for the whole stream",
            CONFIG,
        ),
        Cell::none(
            Hibernation,
            "use a Cloudflare Durable Object or AWS API Gateway",
            "the function runs for the whole stream",
            CONFIG,
        ),
        Cell::limited(ContextSurvives, "one stream", "one stream is one invocation", CONFIG),
        Cell::full(SendFromOpen, "the first events of the stream", CONFIG),
        Cell::limited(MaxMessageSize, "20 MB per stream", "", CONFIG),
        Cell::limited(MaxConnectionDuration, "60 s", "synchronous functions", CONFIG),
        Cell::limited(IdleTimeout, "60 s", "the function's duration", CONFIG),
        Cell::full(
            RemoteAddress,
            "the x-nf-client-connection-ip header",
            "Netlify docs: functions/api",
        ),
        Cell::none(Subprotocols, "pass the protocol as a query parameter", NO_WS, CONFIG),
        Cell::none(Compression, "compress payloads in the application", "", CONFIG),
    ],
}
.checked();
