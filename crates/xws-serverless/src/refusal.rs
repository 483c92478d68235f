//! Requests a stream does not open for, answered with an HTTP status and a
//! body that says why.

use http::{HeaderMap, HeaderValue, StatusCode, header};
use xws::{
    Reject, RequestInfo,
    caps::{Capability, DeploymentTarget},
};

/// An HTTP answer instead of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The status.
    pub status: StatusCode,
    /// Headers besides `Content-Type: text/plain`.
    pub headers: HeaderMap,
    /// The explanation.
    pub body: String,
}

impl Refusal {
    /// A refusal with `status` and `body`.
    pub fn new(status: StatusCode, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: body.into(),
        }
    }

    /// `501 Not Implemented` for a WebSocket upgrade on `target`, naming the
    /// alternative; `None` when the request is no upgrade.
    pub fn websocket(target: DeploymentTarget, request: &RequestInfo) -> Option<Self> {
        let upgrade = request.header(header::UPGRADE)?;
        if !upgrade.eq_ignore_ascii_case("websocket") {
            return None;
        }
        let why = match target.require(Capability::WebSocket) {
            Err(error) => error.to_string(),
            Ok(()) => format!(
                "this URL serves SSE (Server-Sent Events) on {}: open it with EventSource",
                target.name()
            ),
        };
        Some(Self::new(StatusCode::NOT_IMPLEMENTED, why))
    }

    /// `405 Method Not Allowed` unless the method is `GET`.
    pub fn method(method: &http::Method) -> Option<Self> {
        (method != http::Method::GET).then(|| {
            let mut refusal = Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "an event stream is opened with GET",
            );
            refusal
                .headers
                .insert(header::ALLOW, HeaderValue::from_static("GET"));
            refusal
        })
    }

    /// The response, for adapters whose runtime speaks `http`.
    pub fn into_response(self) -> http::Response<String> {
        let mut response = http::Response::new(self.body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

impl From<Reject> for Refusal {
    fn from(reject: Reject) -> Self {
        Self {
            status: reject.status,
            headers: reject.headers,
            body: reject.body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_websocket_upgrade_is_refused_with_the_alternative() {
        let request = RequestInfo::new("/api/sse", None).with_header("upgrade", "WebSocket");
        let refusal = Refusal::websocket(DeploymentTarget::Vercel, &request).unwrap();
        assert_eq!(refusal.status, StatusCode::NOT_IMPLEMENTED);
        assert!(
            refusal
                .body
                .starts_with("WebSocket is not supported on Vercel functions: use SSE"),
            "{}",
            refusal.body
        );
        let plain = RequestInfo::new("/api/sse", None);
        assert!(Refusal::websocket(DeploymentTarget::Vercel, &plain).is_none());
    }

    #[test]
    fn only_get_opens_a_stream() {
        let refusal = Refusal::method(&http::Method::POST).unwrap();
        let response = refusal.into_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "GET");
        assert!(Refusal::method(&http::Method::GET).is_none());
    }
}
