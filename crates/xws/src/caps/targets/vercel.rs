//! Vercel functions: SSE within the function's duration, no WebSockets.

use super::shared::sse_function;
use crate::caps::{AdapterStatus, Capability::*, Cell, Column, DeploymentTarget};

const FUNCTIONS: &str = "Vercel docs: functions";
const LIMITS: &str = "Vercel docs: functions/limitations";
const FLUID: &str = "Vercel docs: fluid-compute";
/// WebSockets in functions: a public beta, shown for Node.js and Python.
const WEBSOCKETS: &str = "Vercel docs: functions/websockets (updated 2026-07-06) and KB guide do-vercel-serverless-functions-support-websocket-connections (updated 2026-10-01); vercel_runtime 2.4 (docs.rs: run, axum::VercelLayer)";
const ADAPTER: &str = "xws-vercel";

/// The Vercel column.
pub const COLUMN: Column = Column {
    target: DeploymentTarget::Vercel,
    name: "Vercel functions",
    also: "Vercel",
    adapter: AdapterStatus::Available { krate: "xws-vercel" },
    checked_on: "2026-11-29",
    cells: [
        Cell::none(
            WebSocket,
            "use SSE, a Cloudflare Durable Object, or AWS API Gateway WebSocket",
            "Vercel functions serve WebSockets in a public beta on all plans (Fluid compute, a socket pinned to one instance, bounded by the max duration), shown for Node.js (ws, Socket.IO) and Python; the Rust runtime (vercel_runtime 2.4) bridges one request to one response and offers no upgrade, so the guard stays for Rust handlers",
            WEBSOCKETS,
        )
        .checked_on("2026-12-07"),
        Cell::limited(
            Sse,
            "300 s (800 s on Pro/Enterprise)",
            "a streamed response bounded by the function's max duration; xws-vercel ends it before with a retry: hint; vercel_runtime's axum layer streams text/event-stream bodies",
            LIMITS,
        )
        .proved_by("function_stream_state_then_publications")
        .checked_on("2026-12-07"),
        sse_function::instance_topics(FLUID),
        sse_function::across_instances(ADAPTER).proved_by("function_stream_across_instances"),
        sse_function::publish_from_function(ADAPTER)
            .proved_by("function_stream_state_then_publications"),
        sse_function::no_peers_listing(FUNCTIONS),
        sse_function::BINARY,
        sse_function::PROTOCOL_PING,
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
        sse_function::SEND_FROM_OPEN,
        Cell::full(MaxMessageSize, "no per-event limit documented", LIMITS),
        sse_function::RATE_LIMIT,
        sse_function::CONNECTION_LIMITS,
        sse_function::TOPICS_PER_PEER,
        Cell::limited(
            MaxConnectionDuration,
            "300 s (800 s on Pro/Enterprise)",
            "the function's max duration: a stream ends cleanly before it (XWS_SSE_MAX_DURATION_SECS) with a retry: hint, and the reconnect resumes from the topic's history in Redis, nothing missed",
            LIMITS,
        )
        .proved_by("function_stream_resumes_after_limit")
        .checked_on("2026-12-07"),
        Cell::limited(IdleTimeout, "the function's max duration", "", LIMITS),
        Cell::full(RemoteAddress, "the X-Forwarded-For / X-Real-IP headers", "Vercel docs: headers"),
        sse_function::SUBPROTOCOLS,
        Cell::none(Compression, "compress payloads in the application", "", FUNCTIONS),
        sse_function::CLOSE_CODES,
        sse_function::history_in_redis(ADAPTER)
            .proved_by("function_stream_resumes_after_limit")
            .checked_on("2026-12-07"),
        sse_function::no_history(Presence, FUNCTIONS).checked_on("2026-12-07"),
    ],
}
.in_row_order();
