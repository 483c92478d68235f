//! Cells that several targets share word for word.

use crate::caps::{Capability, Capability::*, Cell};

/// The Cloudflare runtime's WebSockets, the same with or without a Durable Object.
pub mod cloudflare {
    use super::*;

    const WEBSOCKETS: &str = "Cloudflare docs: workers/runtime-apis/websockets";

    /// Binary messages.
    pub const BINARY: Cell = Cell::full(Binary, "ArrayBuffer messages", WEBSOCKETS);
    /// Protocol ping/pong.
    pub const PROTOCOL_PING: Cell = Cell::limited(
        ProtocolPing,
        "runtime only",
        "the runtime answers protocol pings; the application neither sends nor sees them",
        WEBSOCKETS,
    );
    /// Sending from `open`.
    pub const SEND_FROM_OPEN: Cell = Cell::full(
        SendFromOpen,
        "the socket is accepted before the response returns",
        WEBSOCKETS,
    );
    /// The client's address.
    pub const REMOTE_ADDRESS: Cell = Cell::full(
        RemoteAddress,
        "the CF-Connecting-IP header",
        "Cloudflare docs: fundamentals/reference/http-request-headers",
    );
    /// Subprotocols.
    pub const SUBPROTOCOLS: Cell = Cell::full(
        Subprotocols,
        "the Sec-WebSocket-Protocol response header",
        WEBSOCKETS,
    );
    /// The close code and reason.
    pub const CLOSE_CODES: Cell = Cell::full(
        CloseCodes,
        "WebSocket.close(code, reason) reaches the client as sent",
        WEBSOCKETS,
    );
    /// permessage-deflate.
    pub const COMPRESSION: Cell = Cell::limited(
        Compression,
        "compatibility flag",
        "permessage-deflate with the `web_socket_compression` flag",
        "Cloudflare docs: workers/configuration/compatibility-flags",
    );
}

/// What every SSE-only function target (Vercel, Netlify, a Lambda function
/// URL) has or lacks because SSE is not WebSocket.
pub mod sse_function {
    use super::*;

    const BROKER: &str = "publish through a hosted broker (Redis pub/sub), or move real-time to a Cloudflare Durable Object or AWS API Gateway";
    const STATELESS: &str = "functions do not share memory across invocations";

    /// History or presence, which need a store shared by invocations.
    pub const fn no_history(capability: Capability, source: &'static str) -> Cell {
        Cell::none(
            capability,
            "keep it in a store shared by invocations (DynamoDB, Redis), or move real-time to a Cloudflare Durable Object, AWS API Gateway or a Tokio server",
            STATELESS,
            source,
        )
    }

    /// History in the Redis the broker uses, shared by every instance: the
    /// SSE adapters' streams resume.
    pub const fn history_in_redis(source: &'static str) -> Cell {
        Cell::emulated(
            History,
            "kept in the broker's Redis (xws_redis::RedisStreams, InstanceTopics::with_history), shared by every instance",
            "SSE streams only: each publication's position is its event id, and a reconnect with Last-Event-ID resumes on any instance, nothing missed or doubled",
            source,
        )
    }

    /// A capability that needs state shared between invocations, which
    /// function platforms do not keep.
    pub const fn stateless(capability: Capability, source: &'static str) -> Cell {
        Cell::none(capability, BROKER, STATELESS, source)
    }

    const THROUGH_BROKER: &str =
        "through a Broker: Redis pub/sub over TCP (XWS_REDIS_URL, e.g. a hosted Redis)";

    /// Streams of one instance share its topic table (an instance serves
    /// several requests at once).
    pub const fn instance_topics(source: &'static str) -> Cell {
        Cell::full(
            PubSubInstance,
            "the streams of one instance share its topic table (xws_serverless::InstanceTopics)",
            source,
        )
    }

    /// Topics across instances, through a broker.
    pub const fn across_instances(source: &'static str) -> Cell {
        Cell::emulated(
            PubSubAcrossInstances,
            THROUGH_BROKER,
            "instances share nothing; each delivers the broker's publications to its own streams",
            source,
        )
    }

    /// Publishing from another function (an HTTP route, a cron job).
    pub const fn publish_from_function(source: &'static str) -> Cell {
        Cell::emulated(
            PublishFromOutside,
            THROUGH_BROKER,
            "any function publishes through the adapter's hub, which returns once the broker has the publication",
            source,
        )
    }

    /// Listing the open streams.
    pub const fn no_peers_listing(source: &'static str) -> Cell {
        Cell::none(
            PeersListing,
            "keep a registry of streams in a database",
            STATELESS,
            source,
        )
    }

    const SSE_SPEC: &str = "WHATWG HTML: server-sent events";
    const NO_WS: &str = "a WebSocket feature; this target serves SSE only";

    /// Binary messages.
    pub const BINARY: Cell = Cell::emulated(
        Binary,
        "base64 in an `event: binary` SSE event (xws::sse::encode_message)",
        "",
        "xws::sse",
    );
    /// Protocol ping/pong.
    pub const PROTOCOL_PING: Cell = Cell::none(
        ProtocolPing,
        "SSE keep-alive comments (xws::sse::comment)",
        NO_WS,
        SSE_SPEC,
    );
    /// Sending from `open`.
    pub const SEND_FROM_OPEN: Cell =
        Cell::full(SendFromOpen, "the first events of the stream", SSE_SPEC);
    /// A per-connection rate limit: an SSE client sends nothing on its
    /// stream.
    pub const RATE_LIMIT: Cell = Cell::none(
        RateLimit,
        "limit the requests that publish (the platform's firewall, or the route)",
        NO_WS,
        SSE_SPEC,
    );
    /// Connection limits: each stream is an invocation of its own.
    pub const CONNECTION_LIMITS: Cell = Cell::none(
        ConnectionLimits,
        "the platform's concurrency limits and firewall",
        "each stream is an invocation of its own; nothing counts them together",
        SSE_SPEC,
    )
    .checked_on("2026-12-07");
    /// Topics per stream, checked by xws-serverless.
    pub const TOPICS_PER_PEER: Cell = Cell::full(
        TopicsPerPeer,
        "xws_serverless::StreamConfig::max_topics (256): a request naming more gets 400",
        "xws-serverless",
    )
    .checked_on("2026-12-07");
    /// The close code and reason: EventSource has none, so the adapters
    /// send an event.
    pub const CLOSE_CODES: Cell = Cell::emulated(
        CloseCodes,
        "an `event: close` with the code and reason before the stream ends (xws::sse)",
        "EventSource has no close code; xws.js reports the event as the close",
        "xws::sse",
    );
    /// Subprotocols.
    pub const SUBPROTOCOLS: Cell = Cell::none(
        Subprotocols,
        "pass the protocol as a query parameter",
        NO_WS,
        SSE_SPEC,
    );
}
