//! An AWS Lambda function URL in `RESPONSE_STREAM` mode: SSE only.

use super::shared::sse_function;
use crate::caps::{AdapterStatus, Capability::*, Cell, Column, DeploymentTarget};

const STREAMING: &str = "AWS docs: configuration-response-streaming";
const URLS: &str = "AWS docs: urls-invocation";
const BROKER: &str =
    "through a Broker (e.g. Redis pub/sub): one environment serves one request at a time";

/// The AWS Lambda function URL column.
pub const COLUMN: Column = Column {
    target: DeploymentTarget::AwsLambdaUrl,
    name: "AWS Lambda function URL (streaming)",
    also: "Lambda response streaming",
    adapter: AdapterStatus::Available {
        krate: "xws-aws (feature function-url)",
    },
    checked_on: "2026-11-29",
    cells: [
        Cell::none(
            WebSocket,
            "use AWS API Gateway WebSocket (xws-aws), or SSE on the function URL",
            "function URLs answer HTTP requests only",
            URLS,
        ),
        Cell::limited(
            Sse,
            "15 min, 200 MB per response",
            "first 6 MB uncapped, then up to 2 MB/s; not through a VPC function URL; xws_aws::function_url ends each stream before the invocation's deadline with a retry: hint",
            STREAMING,
        )
        .proved_by("function_stream_state_then_publications"),
        Cell::emulated(PubSubInstance, BROKER, "", STREAMING),
        Cell::emulated(PubSubAcrossInstances, BROKER, "", STREAMING)
            .proved_by("function_stream_across_instances"),
        Cell::emulated(
            PublishFromOutside,
            BROKER,
            "another function publishes through xws_aws::function_url::hub_from_env",
            STREAMING,
        )
        .proved_by("function_stream_state_then_publications"),
        Cell::none(
            PeersListing,
            "keep a registry of streams in a database",
            "no invocation sees another",
            STREAMING,
        ),
        sse_function::BINARY,
        sse_function::PROTOCOL_PING,
        Cell::none(
            HeartbeatWithoutWaking,
            "use AWS API Gateway WebSocket",
            "the function runs, and bills, for the whole stream",
            STREAMING,
        ),
        Cell::none(
            Hibernation,
            "use AWS API Gateway WebSocket",
            "the function runs for the whole stream",
            STREAMING,
        ),
        Cell::limited(
            ContextSurvives,
            "one stream",
            "one stream is one invocation",
            STREAMING,
        ),
        sse_function::SEND_FROM_OPEN,
        Cell::limited(MaxMessageSize, "200 MB per response", "", STREAMING),
        sse_function::RATE_LIMIT,
        sse_function::CONNECTION_LIMITS,
        sse_function::TOPICS_PER_PEER,
        Cell::limited(
            MaxConnectionDuration,
            "15 min",
            "the function timeout: a stream ends cleanly before it with a retry: hint, and the reconnect resumes from the topic's history in Redis, nothing missed",
            STREAMING,
        )
        .proved_by("function_stream_resumes_after_limit"),
        Cell::full(IdleTimeout, "none beyond the function timeout", STREAMING),
        Cell::full(RemoteAddress, "requestContext.http.sourceIp", URLS),
        sse_function::SUBPROTOCOLS,
        Cell::none(
            Compression,
            "compress payloads in the application",
            "streamed responses are not compressed",
            STREAMING,
        ),
        sse_function::CLOSE_CODES,
        sse_function::history_in_redis("xws-aws (feature function-url)")
            .proved_by("function_stream_resumes_after_limit")
            .checked_on("2026-12-07"),
        sse_function::no_history(Presence, STREAMING).checked_on("2026-12-07"),
    ],
}
.in_row_order();
