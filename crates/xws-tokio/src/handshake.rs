//! The HTTP side of a WebSocket upgrade (RFC 6455 §4.2).

use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri, header};
use std::net::SocketAddr;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use xws::{Reject, RequestInfo};

use crate::body::{Body, empty, full};

/// Checks that `request` is a WebSocket upgrade and returns its key, or the
/// error response RFC 6455 asks for.
pub(crate) fn validate<B>(request: &Request<B>) -> Result<HeaderValue, Response<Body>> {
    let headers = request.headers();
    if request.method() != Method::GET {
        return Err(plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "WebSocket upgrades use GET",
        ));
    }
    let upgrade_requested = has_token(headers, header::CONNECTION, "upgrade")
        && has_token(headers, header::UPGRADE, "websocket");
    if !upgrade_requested {
        let mut response = plain(
            StatusCode::UPGRADE_REQUIRED,
            "this endpoint speaks WebSocket",
        );
        response
            .headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        return Err(response);
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(HeaderValue::as_bytes)
        != Some(b"13")
    {
        let mut response = plain(
            StatusCode::UPGRADE_REQUIRED,
            "unsupported WebSocket version",
        );
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        return Err(response);
    }
    headers
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|key| !key.is_empty())
        .cloned()
        .ok_or_else(|| plain(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key"))
}

/// Whether a comma-separated header holds `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The `101 Switching Protocols` answer.
pub(crate) fn switching_protocols(
    key: &HeaderValue,
    protocol: Option<&str>,
    extra: HeaderMap,
) -> Response<Body> {
    let mut response = Response::new(empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.extend(extra);
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(Ok(protocol)) = protocol.map(HeaderValue::from_str) {
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
    }
    response
}

/// The head of a bodiless `response` (the `101`) as hyper writes it,
/// `date` included, for an upgrade answered without hyper.
pub(crate) fn response_head(response: &Response<Body>) -> Vec<u8> {
    /// A `101` with its headers fits; the head is written once, then freed.
    const TYPICAL_HEAD: usize = 256;
    let status = response.status();
    let mut head = Vec::with_capacity(TYPICAL_HEAD);
    let mut line = |parts: &[&[u8]]| {
        for part in parts {
            head.extend_from_slice(part);
        }
        head.extend_from_slice(b"\r\n");
    };
    let reason = status.canonical_reason().unwrap_or("");
    line(&[
        b"HTTP/1.1 ",
        status.as_str().as_bytes(),
        b" ",
        reason.as_bytes(),
    ]);
    for (name, value) in response.headers() {
        line(&[name.as_str().as_bytes(), b": ", value.as_bytes()]);
    }
    if !response.headers().contains_key(header::DATE) {
        let now = httpdate::fmt_http_date(std::time::SystemTime::now());
        line(&[b"date: ", now.as_bytes()]);
    }
    line(&[]);
    head
}

/// A handler's (or a limit's) refusal as an HTTP response.
pub(crate) fn rejection(reject: Reject) -> Response<Body> {
    let mut response = plain(reject.status, reject.body);
    response.headers_mut().extend(reject.headers);
    response
}

/// A plain-text response.
pub(crate) fn plain(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    let mut response = Response::new(full(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// What the handler learns about the request.
pub(crate) fn request_info<B>(
    request: &Request<B>,
    remote_addr: Option<SocketAddr>,
) -> RequestInfo {
    request_info_with(request.uri(), request.headers().clone(), remote_addr)
}

/// What the handler learns about a request to `uri` with `headers`.
pub(crate) fn request_info_with(
    uri: &Uri,
    headers: HeaderMap,
    remote_addr: Option<SocketAddr>,
) -> RequestInfo {
    RequestInfo {
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers,
        remote_addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade_request_version(version: &str) -> http::request::Builder {
        Request::get("/ws")
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "WebSocket")
            .header("sec-websocket-version", version)
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    }

    fn upgrade_request() -> http::request::Builder {
        upgrade_request_version("13")
    }

    #[test]
    fn accepts_a_valid_upgrade_and_derives_the_rfc_key() {
        let request = upgrade_request().body(()).unwrap();
        let key = validate(&request).unwrap();
        let response = switching_protocols(&key, Some("chat"), HeaderMap::new());
        assert_eq!(response.status(), 101);
        // The example from RFC 6455 §1.3.
        assert_eq!(
            response.headers()[header::SEC_WEBSOCKET_ACCEPT],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(response.headers()[header::SEC_WEBSOCKET_PROTOCOL], "chat");
    }

    #[test]
    fn refuses_what_is_not_an_upgrade() {
        let plain_get = Request::get("/ws").body(()).unwrap();
        assert_eq!(validate(&plain_get).unwrap_err().status(), 426);
        let post = Request::post("/ws").body(()).unwrap();
        assert_eq!(validate(&post).unwrap_err().status(), 405);
        let old = upgrade_request_version("8").body(()).unwrap();
        assert_eq!(validate(&old).unwrap_err().status(), 426);
    }
}
