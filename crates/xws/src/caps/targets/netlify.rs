//! Netlify functions: short SSE streams, no WebSockets.

use super::shared::sse_function;
use crate::caps::{AdapterStatus, Capability::*, Cell, Column, DeploymentTarget};

const CONFIG: &str = "Netlify docs: functions/configuration";
/// Why there is no adapter: Rust is not a Netlify function language, and
/// streaming is for JavaScript/TypeScript functions.
const NO_RUST: &str = "Netlify docs: functions/build (2026: \"TypeScript, JavaScript, and Go\"); netlify/functions PR #395 (2023-04: the stream helper, Node only)";

/// The Netlify column.
pub const COLUMN: Column = Column {
    target: DeploymentTarget::Netlify,
    name: "Netlify functions",
    also: "Netlify",
    adapter: AdapterStatus::GuardOnly,
    checked_on: "2026-11-29",
    cells: [
        Cell::none(
            WebSocket,
            "use SSE, a Cloudflare Durable Object, or AWS API Gateway WebSocket",
            "no WebSockets on functions; the early-access long-lived product is not for Rust functions",
            CONFIG,
        )
        .checked_on("2026-12-07"),
        Cell::none(
            Sse,
            "serve the stream from a Lambda function URL (xws-aws) or Vercel (xws-vercel), and point a Netlify rewrite at it",
            "Netlify streams responses (60 s, 20 MB) of synchronous JavaScript/TypeScript functions only: Rust is not a function language (an undocumented Lambda-compatible build existed, NETLIFY_EXPERIMENTAL_BUILD_RUST_SOURCE; rust-adventure's guide was archived 2025-04-28 as Netlify will not extend Rust support), and Go/Lambda-compatible functions answer buffered",
            NO_RUST,
        )
        .checked_on("2026-12-07"),
        sse_function::stateless(PubSubInstance, CONFIG),
        sse_function::stateless(PubSubAcrossInstances, CONFIG),
        sse_function::stateless(PublishFromOutside, CONFIG),
        sse_function::no_peers_listing(CONFIG),
        sse_function::BINARY,
        sse_function::PROTOCOL_PING,
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
        sse_function::SEND_FROM_OPEN,
        Cell::limited(MaxMessageSize, "20 MB per stream", "", CONFIG),
        sse_function::RATE_LIMIT,
        sse_function::CONNECTION_LIMITS,
        sse_function::TOPICS_PER_PEER,
        Cell::limited(MaxConnectionDuration, "60 s", "synchronous functions", CONFIG),
        Cell::limited(IdleTimeout, "60 s", "the function's duration", CONFIG),
        Cell::full(
            RemoteAddress,
            "the x-nf-client-connection-ip header",
            "Netlify docs: functions/api",
        ),
        sse_function::SUBPROTOCOLS,
        Cell::none(Compression, "compress payloads in the application", "", CONFIG),
        sse_function::CLOSE_CODES,
        sse_function::no_history(History, CONFIG).checked_on("2026-12-07"),
        sse_function::no_history(Presence, CONFIG).checked_on("2026-12-07"),
    ],
}
.in_row_order();
