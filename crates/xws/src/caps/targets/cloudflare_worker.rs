//! A plain Cloudflare Worker: no Durable Object, so nothing outlives a request.

use super::shared::cloudflare;
use crate::caps::{AdapterStatus, Capability::*, Cell, Column, DeploymentTarget};

const WEBSOCKETS: &str = "Cloudflare docs: workers/runtime-apis/websockets";
const LIMITS: &str = "Cloudflare docs: workers/platform/limits";
const USE_DO: &str = "use a Cloudflare Durable Object (xws-cloudflare)";
const BROKER: &str = "through a Durable Object per topic as broker (xws_cloudflare::TopicBroker): each stream's request holds a socket to it";
const WHY: &str = "a Worker cannot do I/O on behalf of another request (\"Cannot perform I/O on behalf of a different request\")";
const ADAPTER: &str = "xws-cloudflare: WorkerStreams";
const BROKER_HISTORY: &str = "xws-cloudflare: TopicBroker";

/// The plain Cloudflare Worker's column.
pub const COLUMN: Column = Column {
    target: DeploymentTarget::CloudflareWorker,
    name: "Cloudflare Worker (no Durable Object)",
    also: "plain Worker",
    adapter: AdapterStatus::Available {
        krate: "xws-cloudflare (WorkerStreams: SSE)",
    },
    checked_on: "2026-11-29",
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
            "a streamed response held by the Worker's request; WorkerStreams runs the handler there, ends the stream with a retry: hint, and a reconnect with Last-Event-ID resumes from the topic broker's history",
            LIMITS,
        )
        .proved_by("function_stream_state_then_publications"),
        Cell::emulated(PubSubInstance, BROKER, WHY, ADAPTER),
        Cell::emulated(PubSubAcrossInstances, BROKER, WHY, ADAPTER)
            .proved_by("function_stream_across_instances"),
        Cell::emulated(
            PublishFromOutside,
            BROKER,
            "a route or cron run publishes through xws_cloudflare::broker_hub: a POST to the topic's object",
            ADAPTER,
        )
        .proved_by("function_stream_state_then_publications"),
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
            RateLimit,
            "per socket, in its request",
            "the request holding a socket keeps its memory for the socket's life; xws serves SSE here, whose clients send no messages",
            WEBSOCKETS,
        ),
        Cell::none(
            ConnectionLimits,
            "Cloudflare's own limits (WAF rate limiting rules); a Durable Object counts its sockets",
            "each stream is a request of its own; nothing counts them together",
            LIMITS,
        )
        .checked_on("2026-12-07"),
        super::shared::sse_function::TOPICS_PER_PEER,
        Cell::limited(
            MaxConnectionDuration,
            "30 s CPU per request (up to 5 min)",
            "CPU time, not wall time; a deploy closes the sockets; WorkerStreams ends a stream after XWS_SSE_MAX_DURATION_SECS (15 min) with a retry: hint and the reconnect resumes, nothing missed",
            LIMITS,
        )
        .proved_by("function_stream_resumes_after_limit"),
        Cell::full(IdleTimeout, "none documented", LIMITS),
        cloudflare::REMOTE_ADDRESS,
        cloudflare::SUBPROTOCOLS,
        cloudflare::COMPRESSION,
        cloudflare::CLOSE_CODES,
        Cell::emulated(
            History,
            "a TopicBroker object per topic keeps its history",
            "SSE streams only: a reconnect with Last-Event-ID resumes",
            BROKER_HISTORY,
        )
        .proved_by("function_stream_resumes_after_limit")
        .checked_on("2026-12-07"),
        Cell::none(
            Presence,
            USE_DO,
            "the requests holding streams share no state",
            LIMITS,
        )
        .checked_on("2026-12-07"),
    ],
}
.in_row_order();
