//! An AWS API Gateway WebSocket API whose routes invoke Lambda.

use crate::caps::{AdapterStatus, Capability::*, Cell, Column, DeploymentTarget};

const LIMITS: &str = "AWS docs: apigateway-execution-service-websocket-limits-table";
const CONNECTIONS: &str = "AWS docs: apigateway-how-to-call-websocket-api-connections";
const BINARY: &str = "AWS docs: websocket-api-develop-binary-media-types";
const ROUTES: &str = "AWS docs: apigateway-websocket-api-route-keys-connect-disconnect";
const TABLE: &str = "a DynamoDB table of connections and topics, fan-out with PostToConnection";
const DYNAMODB: &str = "AWS docs: dynamodb Expressions.UpdateExpressions (ADD), TTL";

/// The AWS API Gateway WebSocket column.
pub const COLUMN: Column = Column {
    target: DeploymentTarget::AwsApiGateway,
    name: "AWS API Gateway WebSocket + Lambda",
    also: "API Gateway v2 WebSocket API",
    adapter: AdapterStatus::Available { krate: "xws-aws" },
    checked_on: "2026-11-29",
    cells: [
        Cell::full(
            WebSocket,
            "API Gateway holds the socket; $connect/$default/$disconnect invoke Lambda",
            ROUTES,
        )
        .proved_by("echo_json"),
        Cell::none(
            Sse,
            "use a Lambda function URL with response streaming",
            "WebSocket APIs carry WebSockets only",
            ROUTES,
        ),
        Cell::emulated(
            PubSubInstance,
            TABLE,
            "there is no long-lived instance",
            CONNECTIONS,
        )
        .proved_by("publish_skips_sender"),
        Cell::emulated(
            PubSubAcrossInstances,
            TABLE,
            "every invocation sees the same table",
            CONNECTIONS,
        )
        .proved_by("room_fan_out"),
        Cell::full(
            PublishFromOutside,
            "any code with IAM rights posts to @connections (xws_aws::Aws::hub)",
            CONNECTIONS,
        )
        .proved_by("broadcast_from_http"),
        Cell::emulated(
            PeersListing,
            "a query of the connections table",
            "",
            CONNECTIONS,
        ),
        Cell::emulated(
            Binary,
            "binary notices: base64 text ({\"xws\":\"binary\",\"data\":…}) that the session turns back into binary for the handler, and that the adapter writes for the handler's binary messages; xws.js (binaryAsText), xws-client (binary_as_text) and the test kit speak them",
            "API Gateway closes a connection that sends a binary frame with 1003, so a client that does not speak xws must send text; a notice is a third larger than its bytes, so the 128 KB limit carries about 96 KB of binary",
            BINARY,
        )
        .proved_by("binary_roundtrip")
        .checked_on("2026-12-07"),
        Cell::limited(
            ProtocolPing,
            "gateway only",
            "API Gateway answers protocol pings; Lambda never sees them",
            LIMITS,
        )
        .proved_by("ping_pong")
        .checked_on("2026-12-07"),
        Cell::emulated(
            HeartbeatWithoutWaking,
            "a `ping` route (route selection `$request.body.xws`) whose MOCK integration answers the client's app ping",
            "API Gateway answers it without invoking Lambda; the route is in each example's template.yaml, and without it the session answers (an invocation)",
            "AWS docs: websocket-api-develop-routes",
        )
        .proved_by("the_app_ping_is_answered_without_invoking_the_function"),
        Cell::emulated(
            Hibernation,
            "always: Lambda runs per message, API Gateway holds idle sockets",
            "billed per message and per connection-minute",
            LIMITS,
        ),
        Cell::emulated(
            ContextSurvives,
            "stored in the connection's DynamoDB item",
            "each message is a separate invocation",
            CONNECTIONS,
        )
        .proved_by("user_in_context"),
        Cell::emulated(
            SendFromOpen,
            "stored as pending on the connection item; an asynchronous self-invocation posts them once $connect returned (retrying 410 for 5 s), or the first $default does",
            "the socket is not open until $connect returns (410 GoneException before)",
            CONNECTIONS,
        )
        .proved_by("welcome"),
        Cell::limited(
            MaxMessageSize,
            "128 KB (32 KB frames)",
            "API Gateway closes larger messages with 1009; a lower handler limit (Limits::max_message_size) closes with a 1009 close notice, then DeleteConnection; a larger send or publish is Error::MessageTooLarge",
            LIMITS,
        )
        .proved_by("a_message_over_the_handler_limit_closes_with_1009"),
        Cell::emulated(
            RateLimit,
            "the session's token bucket (Limits::rate), stored in the connection's DynamoDB item between invocations",
            "each refusal reaches the `error` hook, then a 1008 close notice and DeleteConnection; a refused message still invokes Lambda",
            CONNECTIONS,
        )
        .proved_by("a_flood_is_closed_with_1008"),
        Cell::emulated(
            ConnectionLimits,
            "counted in the connections table at $connect (a conditional UpdateItem ADD, given back at $disconnect) when XWS_MAX_CONNECTIONS (503) or XWS_MAX_CONNECTIONS_PER_IP (429, per sourceIp, IPv6 by /64) is set",
            "two writes per connection; a lost $disconnect holds its slot until its item expires (2 h 10 min), then a full count is recounted (at most once a minute)",
            CONNECTIONS,
        )
        .proved_by("connections_are_counted_per_address_and_in_all")
        .checked_on("2026-12-07"),
        Cell::full(
            TopicsPerPeer,
            "Limits::max_topics_per_peer (XWS_MAX_TOPICS_PER_PEER), in the core Peer: Error::TooManyTopics",
            CONNECTIONS,
        )
        .proved_by("topic_cap_per_peer")
        .checked_on("2026-12-07"),
        Cell::limited(MaxConnectionDuration, "2 h", "cannot be raised", LIMITS),
        Cell::limited(IdleTimeout, "10 min", "cannot be raised", LIMITS),
        Cell::full(RemoteAddress, "requestContext.identity.sourceIp", ROUTES),
        Cell::full(
            Subprotocols,
            "$connect answers with a Sec-WebSocket-Protocol header",
            ROUTES,
        ),
        Cell::none(
            Compression,
            "compress payloads in the application",
            "no permessage-deflate",
            LIMITS,
        ),
        Cell::emulated(
            CloseCodes,
            "a close notice {\"xws\":\"close\",\"code\":N,\"reason\":R} sent before DeleteConnection; xws.js, xws-client and the test kit report it as the close (xws::client::close_notice)",
            "DeleteConnection closes with 1000 and no reason whatever the adapter meant (1008, 1009, 1011); a client that does not speak xws sees the notice as a text message",
            CONNECTIONS,
        )
        .proved_by("a_flood_is_closed_with_1008")
        .checked_on("2026-12-07"),
        Cell::emulated(
            History,
            "DynamoDB: an atomic counter per topic, items with TTL",
            "xws_aws::DynamoStreams in the connections table; two writes per publication",
            DYNAMODB,
        )
        .proved_by("recovery_after_drop")
        .checked_on("2026-12-07"),
        Cell::emulated(
            Presence,
            "the DynamoDB table of connections",
            "a member item per peer, removed at $disconnect",
            DYNAMODB,
        )
        .proved_by("presence_and_join_leave")
        .checked_on("2026-12-07"),
    ],
}
.in_row_order();
