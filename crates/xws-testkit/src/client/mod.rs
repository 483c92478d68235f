//! Small real-socket clients the scenarios are written with, reusable by load and
//! reliability tools: a WebSocket peer that remembers what it passed over, an HTTP
//! request helper and an SSE subscriber. Every wait has a timeout.

mod event_stream;
mod http;
mod sse;
mod ws;

pub use event_stream::{EventStreamClient, StreamEnd};
pub use http::{
    HttpResponse, get, get_status, get_with_headers, post_json, post_json_with_headers, post_raw,
    post_unfinished,
};
pub use sse::{SseClient, sse_connect, sse_resume};
pub use ws::{Frame, WsClient, connect_rejected};
