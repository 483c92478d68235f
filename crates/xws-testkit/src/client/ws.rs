//! A WebSocket peer for tests.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::{self, Message, protocol::CloseFrame};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::ScenarioError;
use crate::error::within;

/// How many passed-over frames a timeout message quotes.
const SEEN_IN_ERRORS: usize = 5;
/// How many characters of a frame a summary keeps.
const SUMMARY_CHARS: usize = 160;

/// One application-level frame received from the server (pings and pongs are handled
/// by the WebSocket layer and never show up here).
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A text frame holding JSON.
    Json(Value),
    /// A text frame that is not JSON.
    Text(String),
    /// A binary frame.
    Binary(Bytes),
    /// A close frame: code and reason, `None` when the frame carried no status.
    Close(Option<(u16, String)>),
    /// The connection ended without a close frame.
    Ended(String),
}

impl Frame {
    /// A short human summary, for failure messages.
    pub fn summary(&self) -> String {
        let full = match self {
            Frame::Json(value) => value.to_string(),
            Frame::Text(text) => format!("text {text:?}"),
            Frame::Binary(bytes) => format!("binary ({} bytes)", bytes.len()),
            Frame::Close(Some((code, reason))) => format!("close {code} {reason:?}"),
            Frame::Close(None) => "close without status".to_owned(),
            Frame::Ended(why) => format!("connection ended ({why})"),
        };
        truncate(full, SUMMARY_CHARS)
    }

    /// The JSON payload, if this is a JSON text frame.
    pub fn json(&self) -> Option<&Value> {
        match self {
            Frame::Json(value) => Some(value),
            _ => None,
        }
    }

    fn ends_connection(&self) -> bool {
        matches!(self, Frame::Close(_) | Frame::Ended(_))
    }
}

/// A connected WebSocket peer.
///
/// Every `recv_*` call skips frames it was not waiting for, but keeps them in
/// [`WsClient::passed_over`], where later `recv_*` calls look first: frames can be awaited
/// in any order (two rooms' messages may interleave either way), and a scenario can assert
/// that something did *not* arrive while tolerating unrelated traffic (e.g. broadcasts
/// from concurrent scenarios).
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    timeout: Duration,
    label: String,
    passed_over: Vec<Frame>,
    ended: bool,
    binary_as_text: bool,
}

impl std::fmt::Debug for WsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsClient")
            .field("label", &self.label)
            .field("passed_over", &self.passed_over.len())
            .finish_non_exhaustive()
    }
}

impl WsClient {
    /// Opens a WebSocket to `url`; `timeout` bounds the handshake and every later wait.
    pub async fn connect(
        url: &str,
        label: impl Into<String>,
        timeout: Duration,
    ) -> Result<Self, ScenarioError> {
        let (client, _) = Self::connect_with_headers(url, &[], label, timeout).await?;
        Ok(client)
    }

    /// Opens a WebSocket to `url` with extra request `headers` (a cookie,
    /// `Sec-WebSocket-Protocol`); returns it and the subprotocol the
    /// server selected, if any. `Err` carries the status of a refusal, as
    /// [`WsClient::connect`]'s does.
    pub async fn connect_with_headers(
        url: &str,
        headers: &[(&str, &str)],
        label: impl Into<String>,
        timeout: Duration,
    ) -> Result<(Self, Option<String>), ScenarioError> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let label = label.into();
        let mut request = url.into_client_request().map_err(|error| {
            ScenarioError::transport(format!("{label}: {url}"), describe(&error))
        })?;
        for (name, value) in headers {
            let name = tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|error| ScenarioError::transport(format!("{label}: header"), error))?;
            let value = tungstenite::http::HeaderValue::from_str(value)
                .map_err(|error| ScenarioError::transport(format!("{label}: header"), error))?;
            request.headers_mut().append(name, value);
        }
        let handshake = async {
            tokio_tungstenite::connect_async(request)
                .await
                .map_err(|error| {
                    ScenarioError::transport(
                        format!("{label}: connecting to {url}"),
                        describe(&error),
                    )
                })
        };
        let waiting_for = || format!("{label}: WebSocket handshake with {url}");
        let (stream, response) = within(timeout, waiting_for, handshake).await?;
        let protocol = response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let client = Self {
            stream,
            timeout,
            label,
            passed_over: Vec::new(),
            ended: false,
            binary_as_text: false,
        };
        Ok((client, protocol))
    }

    /// The name this peer has in failure messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Sends a JSON value as a text frame.
    pub async fn send_json(&mut self, value: &Value) -> Result<(), ScenarioError> {
        self.send(Message::text(value.to_string())).await
    }

    /// Sends a text frame as is.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<(), ScenarioError> {
        self.send(Message::text(text.into())).await
    }

    /// From now on, sends binary messages as binary notices
    /// ([`xws::client::binary_notice`]), for targets that refuse binary
    /// frames.
    pub fn send_binary_as_text(&mut self) {
        self.binary_as_text = true;
    }

    /// Sends a binary message: a binary frame, or its binary notice after
    /// [`WsClient::send_binary_as_text`].
    pub async fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), ScenarioError> {
        let data = data.into();
        if self.binary_as_text {
            let notice = xws::client::binary_notice(&data);
            return self.send_text(notice.text().unwrap_or_default()).await;
        }
        self.send(Message::binary(data)).await
    }

    /// Starts the closing handshake with `code` and `reason`.
    pub async fn send_close(&mut self, code: u16, reason: &str) -> Result<(), ScenarioError> {
        let frame = CloseFrame {
            code: code.into(),
            reason: reason.into(),
        };
        self.send(Message::Close(Some(frame))).await
    }

    async fn send(&mut self, message: Message) -> Result<(), ScenarioError> {
        let sent = tokio::time::timeout(self.timeout, self.stream.send(message)).await;
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(ScenarioError::transport(
                format!("{}: sending", self.label),
                describe(&error),
            )),
            Err(_) => Err(ScenarioError::Timeout {
                waiting_for: format!("{}: the server to accept a frame", self.label),
                after: self.timeout,
                seen: self.seen_summary(),
            }),
        }
    }

    /// Waits for the next frame, or `None` once `deadline` passes.
    pub async fn next_frame_until(&mut self, deadline: Instant) -> Option<Frame> {
        if self.ended {
            return Some(Frame::Ended("already ended".to_owned()));
        }
        let frame = loop {
            let next = timeout_at(deadline, self.stream.next()).await.ok()?;
            match next {
                None => break Frame::Ended("stream finished".to_owned()),
                Some(Err(error)) => break Frame::Ended(describe(&error)),
                Some(Ok(message)) => {
                    if let Some(frame) = to_frame(message) {
                        break frame;
                    }
                }
            }
        };
        if frame.ends_connection() {
            self.ended = true;
        }
        Some(frame)
    }

    /// Returns the first frame accepted by `wanted`: the earliest such frame already passed
    /// over, else the next one to arrive within the client's timeout. Frames that arrive
    /// before it are kept in [`Self::passed_over`], in order. Fails if the connection ends
    /// first.
    pub async fn recv_matching(
        &mut self,
        waiting_for: &str,
        mut wanted: impl FnMut(&Frame) -> bool,
    ) -> Result<Frame, ScenarioError> {
        if let Some(earlier) = self.passed_over.iter().position(&mut wanted) {
            return Ok(self.passed_over.remove(earlier));
        }
        let deadline = Instant::now() + self.timeout;
        loop {
            let Some(frame) = self.next_frame_until(deadline).await else {
                return Err(ScenarioError::Timeout {
                    waiting_for: format!("{}: {waiting_for}", self.label),
                    after: self.timeout,
                    seen: self.seen_summary(),
                });
            };
            if wanted(&frame) {
                return Ok(frame);
            }
            if frame.ends_connection() {
                return Err(ScenarioError::mismatch(
                    format!("{}: connection", self.label),
                    waiting_for,
                    frame.summary(),
                ));
            }
            self.passed_over.push(frame);
        }
    }

    /// Waits for the first JSON frame accepted by `wanted` (see [`Self::recv_matching`]).
    pub async fn recv_json_matching(
        &mut self,
        waiting_for: &str,
        mut wanted: impl FnMut(&Value) -> bool,
    ) -> Result<Value, ScenarioError> {
        let frame = self
            .recv_matching(waiting_for, |frame| frame.json().is_some_and(&mut wanted))
            .await?;
        match frame {
            Frame::Json(value) => Ok(value),
            other => unreachable!("matcher accepted a non-JSON frame: {other:?}"),
        }
    }

    /// Waits for a JSON frame whose `type` is `kind`.
    pub async fn recv_type(&mut self, kind: &str) -> Result<Value, ScenarioError> {
        self.recv_json_matching(&format!("a {kind:?} frame"), |value| value["type"] == kind)
            .await
    }

    /// Waits for the server to close the connection with `code`.
    pub async fn expect_close(&mut self, code: u16) -> Result<(), ScenarioError> {
        let waiting_for = format!("close frame with code {code}");
        let frame = self
            .recv_matching(&waiting_for, Frame::ends_connection)
            .await?;
        match frame {
            Frame::Close(Some((got, _))) if got == code => Ok(()),
            other => Err(ScenarioError::mismatch(
                format!("{}: closing", self.label),
                waiting_for,
                other.summary(),
            )),
        }
    }

    /// Frames received so far that no `recv_*` call has claimed, in arrival order.
    pub fn passed_over(&self) -> &[Frame] {
        &self.passed_over
    }

    /// Fails if any passed-over JSON frame satisfies `forbidden`.
    pub fn ensure_none_passed_over(
        &self,
        what: &str,
        forbidden: impl Fn(&Value) -> bool,
    ) -> Result<(), ScenarioError> {
        match self
            .passed_over
            .iter()
            .find(|frame| frame.json().is_some_and(&forbidden))
        {
            None => Ok(()),
            Some(frame) => Err(ScenarioError::mismatch(
                format!("{}: {what}", self.label),
                "nothing",
                frame.summary(),
            )),
        }
    }

    fn seen_summary(&self) -> Vec<String> {
        let skip = self.passed_over.len().saturating_sub(SEEN_IN_ERRORS);
        self.passed_over[skip..]
            .iter()
            .map(Frame::summary)
            .collect()
    }
}

/// Tries to open a WebSocket that the server should refuse before the upgrade; returns the
/// HTTP status it answered with, or fails if the upgrade succeeded.
pub async fn connect_rejected(url: &str, timeout: Duration) -> Result<u16, ScenarioError> {
    let answer = async { Ok(tokio_tungstenite::connect_async(url).await) };
    let waiting_for = || format!("an answer to the upgrade request for {url}");
    let attempt = within(timeout, waiting_for, answer).await?;
    match attempt {
        Ok(_) => Err(ScenarioError::mismatch(
            format!("upgrade of {url}"),
            "an HTTP error status before the upgrade",
            "101 Switching Protocols",
        )),
        Err(tungstenite::Error::Http(response)) => Ok(response.status().as_u16()),
        Err(error) => Err(ScenarioError::transport(
            format!("connecting to {url}"),
            describe(&error),
        )),
    }
}

fn to_frame(message: Message) -> Option<Frame> {
    Some(match message {
        // A server that cannot send a close code (API Gateway) sends a
        // close notice first: it is the close, as for xws.js.
        Message::Text(text) if xws::client::parse_close_notice(text.as_str()).is_some() => {
            let frame = xws::client::parse_close_notice(text.as_str())?;
            Frame::Close(Some((u16::from(frame.code), frame.reason)))
        }
        // A binary message through a target that refuses binary frames.
        Message::Text(text) if xws::client::parse_binary_notice(text.as_str()).is_some() => {
            Frame::Binary(xws::client::parse_binary_notice(text.as_str())?.into())
        }
        Message::Text(text) => match serde_json::from_str(text.as_str()) {
            Ok(value) => Frame::Json(value),
            Err(_) => Frame::Text(text.as_str().to_owned()),
        },
        Message::Binary(data) => Frame::Binary(data),
        Message::Close(frame) => Frame::Close(
            frame.map(|frame| (u16::from(frame.code), frame.reason.as_str().to_owned())),
        ),
        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => return None,
    })
}

fn describe(error: &tungstenite::Error) -> String {
    match error {
        tungstenite::Error::Http(response) => {
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            truncate(format!("HTTP {} {body}", response.status()), SUMMARY_CHARS)
        }
        other => other.to_string(),
    }
}

fn truncate(mut text: String, max_chars: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(max_chars) {
        text.truncate(cut);
        text.push('…');
    }
    text
}
