//! One-shot HTTP/1.1 requests over a fresh connection each.
//!
//! Built on hyper's connection-level client, which the workspace already compiles for the
//! server side: no pool, no TLS, no extra dependency tree. A fresh connection per request
//! also keeps scenarios independent of keep-alive behaviour of the target.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use crate::ScenarioError;
use crate::error::within;

/// A fully read HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status line's code.
    pub status: StatusCode,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The whole body.
    pub body: Bytes,
}

impl HttpResponse {
    /// The body parsed as JSON.
    pub fn json(&self) -> Result<Value, ScenarioError> {
        serde_json::from_slice(&self.body).map_err(|error| {
            ScenarioError::mismatch(
                "response body",
                "JSON",
                format!("{error} in {:?}", String::from_utf8_lossy(&self.body)),
            )
        })
    }
}

/// `POST url` with a JSON body; reads the whole answer.
pub async fn post_json(
    url: &str,
    body: &Value,
    timeout: Duration,
) -> Result<HttpResponse, ScenarioError> {
    post_raw(url, &body.to_string(), timeout).await
}

/// `POST url` with `body` sent as is, labelled `application/json` (for malformed bodies).
pub async fn post_raw(
    url: &str,
    body: &str,
    timeout: Duration,
) -> Result<HttpResponse, ScenarioError> {
    let body = Bytes::from(body.to_owned());
    read_all(url, timeout, send(Method::POST, url, Some(body), timeout)).await
}

/// The status of a `POST url` that declares a body of `declared` bytes but
/// sends only `sent` of it: a route that checks credentials before it reads
/// the body answers at once; one that reads the body first waits for the
/// rest, and the wait times out.
pub async fn post_unfinished(
    url: &str,
    declared: usize,
    sent: &[u8],
    timeout: Duration,
) -> Result<StatusCode, ScenarioError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (uri, authority) = parse_url(url)?;
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    let exchange = async {
        let mut tcp = TcpStream::connect((authority.host(), authority.port_u16().unwrap_or(80)))
            .await
            .map_err(|error| ScenarioError::transport(format!("connecting to {url}"), error))?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
             Content-Length: {declared}\r\n\r\n"
        );
        tcp.write_all(head.as_bytes())
            .await
            .map_err(|error| ScenarioError::transport(format!("writing to {url}"), error))?;
        tcp.write_all(sent)
            .await
            .map_err(|error| ScenarioError::transport(format!("writing to {url}"), error))?;
        let mut line = [0u8; 12];
        tcp.read_exact(&mut line).await.map_err(|error| {
            ScenarioError::transport(format!("reading the status line from {url}"), error)
        })?;
        let code = std::str::from_utf8(&line[9..12])
            .ok()
            .and_then(|code| code.parse::<u16>().ok())
            .and_then(|code| StatusCode::from_u16(code).ok());
        code.ok_or_else(|| {
            ScenarioError::transport(
                format!("the status line from {url}"),
                String::from_utf8_lossy(&line).into_owned(),
            )
        })
    };
    within(
        timeout,
        || format!("an answer from {url} before the rest of the body"),
        exchange,
    )
    .await
}

/// `url`, and its `host:port`.
fn parse_url(url: &str) -> Result<(Uri, http::uri::Authority), ScenarioError> {
    let uri: Uri = url
        .parse()
        .map_err(|error| ScenarioError::transport(format!("parsing URL {url}"), error))?;
    let authority = uri
        .authority()
        .ok_or_else(|| ScenarioError::transport(format!("URL {url}"), "no host:port"))?
        .clone();
    Ok((uri, authority))
}

/// `GET url`; reads the whole answer.
pub async fn get(url: &str, timeout: Duration) -> Result<HttpResponse, ScenarioError> {
    read_all(url, timeout, send(Method::GET, url, None, timeout)).await
}

/// `GET url` with extra headers; reads the whole answer.
pub async fn get_with_headers(
    url: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<HttpResponse, ScenarioError> {
    read_all(
        url,
        timeout,
        send_with(Method::GET, url, headers, None, timeout),
    )
    .await
}

/// `POST url` with a JSON body and extra headers; reads the whole answer.
pub async fn post_json_with_headers(
    url: &str,
    headers: &[(&str, &str)],
    body: &Value,
    timeout: Duration,
) -> Result<HttpResponse, ScenarioError> {
    let body = Bytes::from(body.to_string());
    let response = send_with(Method::POST, url, headers, Some(body), timeout);
    read_all(url, timeout, response).await
}

/// The status of `GET url` (with `headers`), without reading the body: for
/// endless ones such as an event stream's.
pub async fn get_status(
    url: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<StatusCode, ScenarioError> {
    let response = send_with(Method::GET, url, headers, None, timeout).await?;
    Ok(response.status())
}

async fn read_all(
    url: &str,
    timeout: Duration,
    response: impl Future<Output = Result<http::Response<Incoming>, ScenarioError>>,
) -> Result<HttpResponse, ScenarioError> {
    let reading = async {
        let response = response.await?;
        let status = response.status();
        let content_type = content_type(&response);
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|error| ScenarioError::transport(format!("reading body of {url}"), error))?
            .to_bytes();
        Ok(HttpResponse {
            status,
            content_type,
            body,
        })
    };
    within(
        timeout,
        || format!("the full HTTP response from {url}"),
        reading,
    )
    .await
}

/// Sends one request on a new connection and returns the response head with a
/// streaming body (used as is by SSE).
pub(super) async fn send(
    method: Method,
    url: &str,
    body: Option<Bytes>,
    timeout: Duration,
) -> Result<http::Response<Incoming>, ScenarioError> {
    send_with(method, url, &[], body, timeout).await
}

/// [`send`] with extra request headers.
pub(super) async fn send_with(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Bytes>,
    timeout: Duration,
) -> Result<http::Response<Incoming>, ScenarioError> {
    let (uri, authority) = parse_url(url)?;
    let port = authority.port_u16().unwrap_or(80);
    let exchange = async {
        let tcp = TcpStream::connect((authority.host(), port))
            .await
            .map_err(|error| ScenarioError::transport(format!("connecting to {url}"), error))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|error| {
                ScenarioError::transport(format!("HTTP handshake with {url}"), error)
            })?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "test HTTP connection ended");
            }
        });
        let path = uri.path_and_query().map_or("/", |path| path.as_str());
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, authority.as_str());
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|error| {
                ScenarioError::transport(format!("building request to {url}"), error)
            })?;
        sender
            .send_request(request)
            .await
            .map_err(|error| ScenarioError::transport(format!("requesting {url}"), error))
    };
    within(
        timeout,
        || format!("HTTP response head from {url}"),
        exchange,
    )
    .await
}

pub(super) fn content_type<B>(response: &http::Response<B>) -> Option<String> {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}
