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
    adapter: AdapterStatus::GuardOnly,
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
            "first 6 MB uncapped, then up to 2 MB/s; not through a VPC function URL; gap: xws-aws has no streaming SSE entry yet (a stream would need a Broker to hear publications); cargo lambda watch can stream since cargo-lambda PR #920",
            STREAMING,
        ),
        Cell::emulated(PubSubInstance, BROKER, "", STREAMING),
        Cell::emulated(PubSubAcrossInstances, BROKER, "", STREAMING),
        Cell::emulated(PublishFromOutside, BROKER, "", STREAMING),
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
        Cell::limited(
            MaxConnectionDuration,
            "15 min",
            "the function timeout",
            STREAMING,
        ),
        Cell::full(IdleTimeout, "none beyond the function timeout", STREAMING),
        Cell::full(RemoteAddress, "requestContext.http.sourceIp", URLS),
        sse_function::SUBPROTOCOLS,
        Cell::none(
            Compression,
            "compress payloads in the application",
            "streamed responses are not compressed",
            STREAMING,
        ),
    ],
}
.checked();
