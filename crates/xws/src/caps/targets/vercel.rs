//! Vercel functions: SSE within the function's duration, no WebSockets.

use crate::caps::{AdapterStatus, Capability::*, Cell, Column, DeploymentTarget};

const FUNCTIONS: &str = "Vercel docs: functions";
const LIMITS: &str = "Vercel docs: functions/limitations";
const BROKER: &str = "publish through a hosted broker (Redis pub/sub), or move real-time to a Cloudflare Durable Object or AWS API Gateway";
const INVOCATIONS: &str = "functions do not share memory across invocations";
const NO_WS: &str = "WebSocket only; no WebSockets for Rust functions";

/// The Vercel column.
pub const COLUMN: Column = Column {
    target: DeploymentTarget::Vercel,
    name: "Vercel functions",
    also: "Vercel",
    adapter: AdapterStatus::GuardOnly,
    cells: [
        Cell::none(
            WebSocket,
            "use SSE, a Cloudflare Durable Object, or AWS API Gateway WebSocket",
            "a public beta on Fluid compute pins a socket to one instance; not confirmed for Rust functions",
            FUNCTIONS,
        ),
        Cell::limited(
            Sse,
            "300 s (800 s on Pro/Enterprise)",
            "a streamed response bounded by the function's max duration",
            LIMITS,
        ),
        Cell::none(PubSubInstance, BROKER, INVOCATIONS, FUNCTIONS),
        Cell::none(PubSubAcrossInstances, BROKER, INVOCATIONS, FUNCTIONS),
        Cell::none(PublishFromOutside, BROKER, INVOCATIONS, FUNCTIONS),
        Cell::none(
            PeersListing,
            "keep a registry of streams in a database",
            INVOCATIONS,
            FUNCTIONS,
        ),
        Cell::emulated(
            Binary,
            "base64 in an `event: binary` SSE event (xws::sse::encode_message)",
            "",
            "xws::sse",
        ),
        Cell::none(ProtocolPing, "SSE keep-alive comments (xws::sse::comment)", NO_WS, FUNCTIONS),
        Cell::none(
            HeartbeatWithoutWaking,
            "use a Cloudflare Durable Object",
            "the function runs for the whole stream",
            FUNCTIONS,
        ),
        Cell::none(
            Hibernation,
            "use a Cloudflare Durable Object or AWS API Gateway",
            "the function runs for the whole stream",
            FUNCTIONS,
        ),
        Cell::limited(ContextSurvives, "one stream", "one stream is one invocation", FUNCTIONS),
        Cell::full(SendFromOpen, "the first events of the stream", FUNCTIONS),
        Cell::full(MaxMessageSize, "no per-event limit documented", LIMITS),
        Cell::limited(
            MaxConnectionDuration,
            "300 s (800 s on Pro/Enterprise)",
            "the function's max duration",
            LIMITS,
        ),
        Cell::limited(IdleTimeout, "the function's max duration", "", LIMITS),
        Cell::full(RemoteAddress, "the X-Forwarded-For / X-Real-IP headers", "Vercel docs: headers"),
        Cell::none(Subprotocols, "pass the protocol as a query parameter", NO_WS, FUNCTIONS),
        Cell::none(Compression, "compress payloads in the application", "", FUNCTIONS),
    ],
}
.checked();
