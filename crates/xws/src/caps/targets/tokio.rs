//! A long-running Tokio server: a VPS, a container, a Kubernetes pod.

use crate::caps::{AdapterStatus, Capability::*, Cell, Column, DeploymentTarget};

const ADAPTER: &str = "xws-tokio";
const LIMITS: &str = "xws::Limits";
const STREAMS: &str = "xws::stream";

/// The Tokio server's column.
pub const COLUMN: Column = Column {
    target: DeploymentTarget::Tokio,
    name: "Tokio server",
    also: "VPS, container, Kubernetes",
    adapter: AdapterStatus::Available { krate: ADAPTER },
    checked_on: "2026-11-29",
    cells: [
        Cell::full(WebSocket, "hyper 1 + tokio-tungstenite", ADAPTER).proved_by("echo_json"),
        Cell::full(Sse, "a streaming HTTP response per subscriber", ADAPTER)
            .proved_by("sse_receives_room_messages"),
        Cell::full(PubSubInstance, "local topic table; a publish skips its sender", ADAPTER)
            .proved_by("publish_skips_sender"),
        Cell::emulated(
            PubSubAcrossInstances,
            "a Broker (xws-redis: Redis pub/sub) relays publications between nodes",
            "without a Broker, topics are per process",
            "xws::Broker",
        )
        .proved_by("three_nodes_deliver_exactly_once_in_sender_order")
        .checked_on("2026-12-07"),
        Cell::full(PublishFromOutside, "xws::Hub from any route or task", ADAPTER)
            .proved_by("broadcast_from_http"),
        Cell::limited(
            PeersListing,
            "this process",
            "Hub::peers lists the peers of the local node",
            ADAPTER,
        ),
        Cell::full(Binary, "binary frames as they are", ADAPTER).proved_by("binary_roundtrip"),
        Cell::full(ProtocolPing, "pings answered; heartbeat pings sent", ADAPTER)
            .proved_by("ping_pong"),
        Cell::full(
            HeartbeatWithoutWaking,
            "nothing sleeps: the server answers pings without calling the handler",
            ADAPTER,
        )
        .proved_by("a_websocket_peer_gets_the_app_pong_without_the_handler"),
        Cell::none(
            Hibernation,
            "not needed: an idle connection costs only memory; for scale-to-zero use a Cloudflare Durable Object or AWS API Gateway",
            "the process keeps every socket",
            ADAPTER,
        ),
        Cell::full(ContextSurvives, "in memory for the connection's life", ADAPTER)
            .proved_by("user_in_context"),
        Cell::full(SendFromOpen, "the socket is open when `open` runs", ADAPTER)
            .proved_by("welcome"),
        Cell::limited(
            MaxMessageSize,
            "64 KiB default, configurable",
            "larger messages close with 1009",
            LIMITS,
        )
        .proved_by("oversize_closes_1009"),
        Cell::full(
            RateLimit,
            "a token bucket per connection (Limits::rate): each refusal reaches the `error` hook, then 1008",
            LIMITS,
        )
        .proved_by("a_flood_is_refused_then_closed_with_1008_while_a_calm_peer_is_served"),
        Cell::full(
            ConnectionLimits,
            "counted from accept: Limits::max_connections (503) and max_connections_per_ip (429), IPv6 by /64, X-Forwarded-For from trusted proxies only",
            LIMITS,
        )
        .proved_by("connections_are_limited_per_ip_with_429_and_in_total_with_503")
        .checked_on("2026-12-07"),
        Cell::full(
            TopicsPerPeer,
            "Limits::max_topics_per_peer (256), in the core Peer: Error::TooManyTopics; an SSE request naming more gets 400",
            LIMITS,
        )
        .proved_by("topic_cap_per_peer")
        .checked_on("2026-12-07"),
        Cell::full(
            MaxConnectionDuration,
            "no limit in xws; a proxy or load balancer in front may set one",
            ADAPTER,
        ),
        Cell::full(IdleTimeout, "configurable heartbeat (xws::Heartbeat)", LIMITS)
            .proved_by("a_peer_that_stops_answering_pings_gets_1011_and_its_close_hook_runs")
            .checked_on("2026-12-07"),
        Cell::full(
            RemoteAddress,
            "the socket's peer address; behind trusted proxies (Config::trusted_proxies), X-Forwarded-For; IPv6 counted by /64",
            ADAPTER,
        )
        .proved_by("behind_a_trusted_proxy_clients_count_by_x_forwarded_for_and_ipv6_by_64")
        .checked_on("2026-12-07"),
        Cell::full(Subprotocols, "chosen in `upgrade` with Accept::protocol", ADAPTER)
            .proved_by("a_token_in_the_query_a_cookie_or_the_subprotocol_authenticates")
            .checked_on("2026-12-07"),
        Cell::full(
            Compression,
            "permessage-deflate, off by default (Config::permessage_deflate): no context takeover either way, a publication compressed once per window size for all its subscribers; Autobahn 12.*/13.* pass",
            "RFC 7692; xws-tokio over flate2 (tungstenite 0.30 has no extensions)",
        )
        .proved_by("a_publication_is_compressed_once_per_window_for_every_subscriber")
        .checked_on("2026-12-07"),
        Cell::full(
            CloseCodes,
            "any code and reason: 1008 rate limit, 1009 too large, 1011 handler error, 1013 slow reader",
            "RFC 6455 section 7.4",
        )
        .proved_by("oversize_closes_1009")
        .checked_on("2026-12-07"),
        Cell::full(
            History,
            "in memory on one node; a Redis Stream per topic across nodes (xws_redis::RedisStreams)",
            STREAMS,
        )
        .proved_by("recovery_after_drop")
        .checked_on("2026-12-07"),
        Cell::full(
            Presence,
            "in memory on one node; Redis hashes across nodes",
            STREAMS,
        )
        .proved_by("presence_and_join_leave")
        .checked_on("2026-12-07"),
    ],
}
.in_row_order();
