//! A Cloudflare Durable Object holding the sockets, with the hibernation API.

use crate::caps::{AdapterStatus, Capability::*, Cell, Column, DeploymentTarget};

const STATE: &str = "Cloudflare docs: durable-objects/api/state";
const WEBSOCKETS: &str = "Cloudflare docs: durable-objects/best-practices/websockets";
const LIMITS: &str = "Cloudflare docs: durable-objects/platform/limits";
const FLAGS: &str = "Cloudflare docs: workers/configuration/compatibility-flags";
const SQL: &str = "Cloudflare docs: durable-objects/api/sqlite-storage-api";

/// The Cloudflare Durable Object's column.
pub const COLUMN: Column = Column {
    target: DeploymentTarget::CloudflareDurableObject,
    name: "Cloudflare Durable Object",
    also: "Workers + Durable Objects",
    adapter: AdapterStatus::Available {
        krate: "xws-cloudflare",
    },
    checked_on: "2026-11-29",
    cells: [
        Cell::full(
            WebSocket,
            "state.acceptWebSocket (hibernatable)",
            WEBSOCKETS,
        )
        .proved_by("echo_json"),
        Cell::limited(
            Sse,
            "keeps the object awake",
            "a streamed response; no hibernation while it is open",
            WEBSOCKETS,
        )
        .proved_by("sse_receives_room_messages"),
        Cell::full(
            PubSubInstance,
            "the sockets of one object (one room or namespace)",
            WEBSOCKETS,
        )
        .proved_by("publish_skips_sender"),
        Cell::emulated(
            PubSubAcrossInstances,
            "one object per room; a publish to another room is a fetch to its object",
            "each object is single-threaded, ~1,000 requests/s soft limit",
            LIMITS,
        ),
        Cell::full(
            PublishFromOutside,
            "Worker routes and cron triggers through the object's stub; the object's own routes and alarms through `Object::hub`",
            STATE,
        )
        .proved_by("broadcast_from_http"),
        Cell::limited(
            PeersListing,
            "32,768 sockets per object",
            "state.getWebSockets(tag); CPU and memory may lower the count",
            LIMITS,
        ),
        Cell::full(Binary, "ArrayBuffer messages", WEBSOCKETS).proved_by("binary_roundtrip"),
        Cell::limited(
            ProtocolPing,
            "runtime only",
            "the runtime answers protocol pings; the application neither sends nor sees them",
            WEBSOCKETS,
        )
        .proved_by("ping_pong")
        .checked_on("2026-12-07"),
        Cell::limited(
            HeartbeatWithoutWaking,
            "2,048 characters",
            "setWebSocketAutoResponse answers the client's app ping (xws.js's heartbeat) without waking the object",
            STATE,
        )
        .proved_by("the_app_ping_is_answered_without_waking_the_object"),
        Cell::full(
            Hibernation,
            "no duration charge while hibernated; messages bill 20:1 as requests",
            WEBSOCKETS,
        )
        .proved_by("hibernation_keeps_peers_and_pings_never_wake_the_object"),
        Cell::limited(
            ContextSurvives,
            "16,384 bytes",
            "the serialized socket attachment survives hibernation and is lost on close",
            STATE,
        )
        .proved_by("hibernation_keeps_peers_and_pings_never_wake_the_object"),
        Cell::full(
            SendFromOpen,
            "the socket is accepted before the response returns",
            WEBSOCKETS,
        )
        .proved_by("welcome"),
        Cell::limited(
            MaxMessageSize,
            "32 MiB",
            "received messages; older pages said 1 MiB; the handler's lower limit (Limits::max_message_size) closes with 1009",
            LIMITS,
        )
        .proved_by("oversize_messages_close_with_1009"),
        Cell::full(
            RateLimit,
            "the session's token bucket (Limits::rate) in the object's memory: each refusal reaches the `error` hook, then 1008; it starts full when the object wakes from hibernation (seconds without a message, in which it refills anyway)",
            "xws-cloudflare",
        )
        .proved_by("rate_limit_closes_a_flooding_peer_with_1008"),
        Cell::emulated(
            ConnectionLimits,
            "per object: its WebSockets and SSE streams in all (Limits::max_connections, 503) and per CF-Connecting-IP (max_connections_per_ip, 429, IPv6 by /64), counted by socket tags that survive hibernation",
            "an object counts only the sockets and streams it holds",
            WEBSOCKETS,
        )
        .proved_by("a_client_address_holds_the_per_ip_limit_then_gets_429")
        .checked_on("2026-12-07"),
        Cell::full(
            TopicsPerPeer,
            "Limits::max_topics_per_peer, in the core Peer: Error::TooManyTopics; an SSE request naming more gets 400",
            "xws::Limits",
        )
        .proved_by("topic_cap_per_peer")
        .checked_on("2026-12-07"),
        Cell::full(
            MaxConnectionDuration,
            "none documented; a deploy or an object reset closes the sockets",
            LIMITS,
        ),
        Cell::full(
            IdleTimeout,
            "none documented; hibernation makes idle sockets free",
            WEBSOCKETS,
        ),
        Cell::full(
            RemoteAddress,
            "the CF-Connecting-IP header",
            "Cloudflare docs: fundamentals/reference/http-request-headers",
        ),
        Cell::full(
            Subprotocols,
            "the Sec-WebSocket-Protocol response header",
            WEBSOCKETS,
        ),
        Cell::limited(
            Compression,
            "compatibility flag",
            "permessage-deflate with the `web_socket_compression` flag",
            FLAGS,
        ),
        Cell::full(
            CloseCodes,
            "WebSocket.close(code, reason) reaches the client as sent",
            WEBSOCKETS,
        )
        .proved_by("rate_limit_closes_a_flooding_peer_with_1008")
            .checked_on("2026-12-07"),
        Cell::full(
            History,
            "the object's SQLite storage: survives hibernation and eviction",
            SQL,
        )
        .proved_by("recovery_after_drop")
        .checked_on("2026-12-07"),
        Cell::full(
            Presence,
            "the sockets the object holds (each member's info in its socket's attachment)",
            WEBSOCKETS,
        )
        .proved_by("presence_and_join_leave")
        .checked_on("2026-12-07"),
    ],
}
.in_row_order();
