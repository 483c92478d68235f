//! Plain HTTP requests, routed to the HTTP function as an HTTP API would.

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use base64::Engine;
use serde_json::Value;
use std::net::SocketAddr;

use crate::{Emulator, Stats, events, invoke::invoke};

pub(crate) async fn forward(
    emulator: &Emulator,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
    source: SocketAddr,
) -> Response {
    let Some(function) = &emulator.config.http_function else {
        return (StatusCode::NOT_FOUND, "no HTTP function configured").into_response();
    };
    Stats::bump(&emulator.stats.http_requests);
    let domain = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let event = events::http(method, uri, headers, &body, source, domain);
    match invoke(&emulator.client, function, &event).await {
        Ok(answer) => response(&answer),
        Err(error) => {
            tracing::error!(%error, "HTTP function failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"message":"Internal Server Error"}"#,
            )
                .into_response()
        }
    }
}

/// Turns a payload 2.0 response (`statusCode`, `headers`, `cookies`, `body`,
/// `isBase64Encoded`) into an HTTP response.
fn response(answer: &Value) -> Response {
    let status = answer
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok())
        .unwrap_or(StatusCode::OK);
    let text = answer.get("body").and_then(Value::as_str).unwrap_or("");
    let body = if answer.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap_or_default()
    } else {
        text.as_bytes().to_vec()
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(map) = answer.get("headers").and_then(Value::as_object) {
        for (name, value) in map {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::try_from(name.as_str()),
                value.as_str().map(HeaderValue::from_str),
            ) {
                headers.append(name, value);
            }
        }
    }
    for cookie in answer
        .get("cookies")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(Ok(value)) = cookie.as_str().map(HeaderValue::from_str) {
            headers.append("set-cookie", value);
        }
    }
    response
}
