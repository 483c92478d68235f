//! Requests to a function's instance, as Vercel's edge forwards them, and
//! the max duration.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use tokio::time::Instant;

use crate::{Harness, Stats};

/// Pins a request to one instance of its function (tests).
pub const INSTANCE_HEADER: &str = "x-vercel-local-instance";

/// Headers that belong to one hop.
const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "content-length",
];

static REQUEST_IDS: AtomicU64 = AtomicU64::new(1);

fn vercel_error(status: StatusCode, code: &str) -> Response {
    (status, format!("{status}: {code}\n")).into_response()
}

pub(crate) async fn forward(
    State(harness): State<Arc<Harness>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let pinned = parts
        .headers
        .get(INSTANCE_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let Some(port) = harness.pick(parts.uri.path(), pinned) else {
        let file = match &harness.public {
            Some(dir) => crate::public::serve(dir, &parts.method, parts.uri.path()).await,
            None => None,
        };
        return file.unwrap_or_else(|| vercel_error(StatusCode::NOT_FOUND, "NOT_FOUND"));
    };
    let body = match axum::body::to_bytes(body, 4_500_000).await {
        Ok(body) => body,
        // Vercel's request body limit is 4.5 MB.
        Err(_) => return vercel_error(StatusCode::PAYLOAD_TOO_LARGE, "FUNCTION_PAYLOAD_TOO_LARGE"),
    };
    let invocation = uuid::Uuid::new_v4().to_string();
    let request_id = REQUEST_IDS.fetch_add(1, Ordering::Relaxed);
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("http://127.0.0.1:{port}{path_and_query}");
    let headers = edge_headers(&parts.headers, client, &invocation, request_id);
    let deadline = Instant::now() + harness.max_duration;
    harness.stats.request(&invocation);
    let sent = harness
        .client
        .request(parts.method.clone(), &url)
        .headers(headers)
        .body(body)
        .send();
    let answer = match tokio::time::timeout_at(deadline, sent).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(error)) => {
            tracing::error!(%error, %url, "the function did not answer");
            return vercel_error(StatusCode::BAD_GATEWAY, "FUNCTION_INVOCATION_FAILED");
        }
        Err(_) => {
            Stats::bump(&harness.stats.timed_out);
            return vercel_error(StatusCode::GATEWAY_TIMEOUT, "FUNCTION_INVOCATION_TIMEOUT");
        }
    };
    let status = answer.status();
    let from = answer.headers().clone();
    let body = until_deadline(answer.bytes_stream(), deadline, harness.clone());
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = status;
    for (name, value) in &from {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

/// What Vercel's edge adds to a request, and the bridge's request ids.
fn edge_headers(
    from: &HeaderMap,
    client: SocketAddr,
    invocation: &str,
    request_id: u64,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in from {
        if name != header::HOST && !HOP_BY_HOP.contains(&name.as_str()) && name != INSTANCE_HEADER {
            headers.append(name, value.clone());
        }
    }
    // Kept: a WebSocket handshake must reach the function as asked.
    if let Some(connection) = from.get(header::CONNECTION) {
        headers.insert(header::CONNECTION, connection.clone());
    }
    let host = from
        .get(header::HOST)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("localhost"));
    let ip = client.ip().to_string();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set("x-forwarded-for", &ip);
    set("x-real-ip", &ip);
    set("x-forwarded-proto", "http");
    set("x-vercel-id", &format!("local::{request_id}"));
    set("x-vercel-internal-invocation-id", invocation);
    set("x-vercel-internal-request-id", &request_id.to_string());
    headers.insert(HeaderName::from_static("x-forwarded-host"), host);
    headers
}

/// The function's body until `deadline`; still streaming then, it is cut.
fn until_deadline(
    body: impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    deadline: Instant,
    harness: Arc<Harness>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let body = Box::pin(body);
    futures_util::stream::unfold(Some(body), move |body| {
        let harness = harness.clone();
        async move {
            let mut body = body?;
            tokio::select! {
                chunk = body.next() => match chunk {
                    Some(Ok(chunk)) => Some((Ok(chunk), Some(body))),
                    Some(Err(error)) => Some((Err(std::io::Error::other(error)), None)),
                    None => None,
                },
                () = tokio::time::sleep_until(deadline) => {
                    Stats::bump(&harness.stats.cut_at_max_duration);
                    tracing::warn!("a response was still streaming at the max duration: cut");
                    Some((Err(std::io::Error::other("the function reached its max duration")), None))
                }
            }
        }
    })
}
