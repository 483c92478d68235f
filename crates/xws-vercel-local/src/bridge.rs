//! The function bridge protocol of `vercel_runtime` 2.x, as its source
//! (crates/vercel_runtime in vercel/vercel) speaks it.
//!
//! The host creates a Unix socket and starts the function binary with
//! `VERCEL_IPC_PATH` naming it. The function binds an HTTP/1.1 server on
//! 127.0.0.1 (`VERCEL_DEV_PORT`, 3000 by default), connects to the socket and
//! writes JSON messages, each ended by a NUL byte:
//!
//! - `{"type":"server-started","payload":{"initDuration":0,"httpPort":P}}`
//!   once it listens;
//! - `{"type":"end","payload":{"context":{"invocationId":I,"requestId":R},"error":null}}`
//!   when its handler has returned the response head of the request that
//!   carried the headers `x-vercel-internal-invocation-id: I` and
//!   `x-vercel-internal-request-id: R` (the body may still be streaming);
//! - `{"type":"log","payload":{"context":…,"message":BASE64,"level":"info"}}`
//!   (or `"stream":"stdout"`) for what the function logs through its
//!   `LogContext`, and `metric` messages, which this host ignores.
//!
//! `GET /_vercel/ping` answers `OK` without reaching the handler.

use base64::Engine as _;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::UnixStream;

/// Names one request in `end` and `log` messages.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct RequestContext {
    /// `x-vercel-internal-invocation-id`.
    #[serde(rename = "invocationId")]
    pub invocation_id: String,
    /// `x-vercel-internal-request-id`.
    #[serde(rename = "requestId")]
    pub request_id: u64,
}

/// One message from a function.
#[derive(Clone, Debug, PartialEq)]
pub enum BridgeMessage {
    /// The function listens on `http_port`.
    ServerStarted {
        /// Its port on 127.0.0.1.
        http_port: u16,
        /// Milliseconds it took to start, as it reports them.
        init_duration: u64,
    },
    /// The handler returned the response head of a request.
    End {
        /// Which request.
        context: RequestContext,
        /// An error the function reports, if any.
        error: Option<serde_json::Value>,
    },
    /// A log line of a request.
    Log {
        /// Which request.
        context: RequestContext,
        /// The text, base64-encoded.
        message: String,
        /// `trace` … `error`, when logged with a level.
        level: Option<String>,
        /// `stdout` or `stderr`, when captured from a stream.
        stream: Option<String>,
    },
    /// Anything else (`metric`).
    Other,
}

/// Any message: its type, and a payload shaped as the type says.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: serde_json::Value,
}

#[derive(Deserialize)]
struct Started {
    #[serde(rename = "httpPort")]
    http_port: u16,
    #[serde(rename = "initDuration", default)]
    init_duration: u64,
}

#[derive(Deserialize)]
struct Ended {
    context: RequestContext,
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Logged {
    context: RequestContext,
    message: String,
    level: Option<String>,
    stream: Option<String>,
}

impl BridgeMessage {
    /// Parses one message (without its NUL).
    pub fn parse(raw: &[u8]) -> Result<Self, serde_json::Error> {
        let Envelope { kind, payload } = serde_json::from_slice(raw)?;
        Ok(match kind.as_str() {
            "server-started" => {
                let Started {
                    http_port,
                    init_duration,
                } = serde_json::from_value(payload)?;
                BridgeMessage::ServerStarted {
                    http_port,
                    init_duration,
                }
            }
            "end" => {
                let Ended { context, error } = serde_json::from_value(payload)?;
                BridgeMessage::End { context, error }
            }
            "log" => {
                let Logged {
                    context,
                    message,
                    level,
                    stream,
                } = serde_json::from_value(payload)?;
                BridgeMessage::Log {
                    context,
                    message,
                    level,
                    stream,
                }
            }
            _ => BridgeMessage::Other,
        })
    }

    /// A log message's text, decoded.
    pub fn log_text(&self) -> Option<String> {
        match self {
            BridgeMessage::Log { message, .. } => base64::engine::general_purpose::STANDARD
                .decode(message)
                .ok()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
            _ => None,
        }
    }
}

/// Reads NUL-ended messages from a function's IPC connection.
pub struct BridgeReader {
    reader: BufReader<UnixStream>,
    buffer: Vec<u8>,
}

impl BridgeReader {
    /// Reads from `stream`.
    pub fn new(stream: UnixStream) -> Self {
        Self {
            reader: BufReader::new(stream),
            buffer: Vec::new(),
        }
    }

    /// The next message; `None` when the function closed the connection.
    /// A message that does not parse is an error naming it.
    pub async fn next(&mut self) -> Option<Result<BridgeMessage, String>> {
        self.buffer.clear();
        match self.reader.read_until(0, &mut self.buffer).await {
            Ok(0) => None,
            Ok(_) => {
                let raw = self.buffer.strip_suffix(&[0]).unwrap_or(&self.buffer);
                Some(
                    BridgeMessage::parse(raw)
                        .map_err(|error| format!("{error}: {:?}", String::from_utf8_lossy(raw))),
                )
            }
            Err(error) => Some(Err(error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_vercel_runtime_writes() {
        let started = BridgeMessage::parse(
            br#"{"type":"server-started","payload":{"initDuration":0,"httpPort":41234}}"#,
        )
        .unwrap();
        assert_eq!(
            started,
            BridgeMessage::ServerStarted {
                http_port: 41234,
                init_duration: 0
            }
        );
        let end = BridgeMessage::parse(
            br#"{"type":"end","payload":{"context":{"invocationId":"i-1","requestId":7},"error":null}}"#,
        )
        .unwrap();
        assert!(
            matches!(end, BridgeMessage::End { context, error: None } if context.request_id == 7)
        );
        let log = BridgeMessage::parse(
            br#"{"type":"log","payload":{"context":{"invocationId":"i","requestId":1},"message":"aGk=","level":"info"}}"#,
        )
        .unwrap();
        assert_eq!(log.log_text().as_deref(), Some("hi"));
        let metric = BridgeMessage::parse(br#"{"type":"metric","payload":{"x":1}}"#).unwrap();
        assert_eq!(metric, BridgeMessage::Other);
    }
}
