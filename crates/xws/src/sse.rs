//! Server-Sent Events: the event type and its wire encoding.
//!
//! An SSE stream is a topic subscriber like a WebSocket peer: adapters turn
//! each publication into an [`SseEvent`] with the publication's sequence
//! number as its `id`, so a reconnecting `EventSource` can send
//! `Last-Event-ID`.

use base64::Engine as _;
use bytes::{BufMut, Bytes, BytesMut};
use std::time::Duration;

use crate::Message;

/// The `Content-Type` of an SSE response.
pub const CONTENT_TYPE: &str = "text/event-stream";

/// One Server-Sent Event.
///
/// ```
/// use std::time::Duration;
/// use xws::sse::SseEvent;
/// let event = SseEvent::new("line one\nline two").id("7").event("message").retry(Duration::from_secs(3));
/// assert_eq!(
///     &event.encode()[..],
///     b"id: 7\nevent: message\nretry: 3000\ndata: line one\ndata: line two\n\n"
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The event id, echoed back by the browser as `Last-Event-ID`.
    pub id: Option<String>,
    /// The event type (`message` when absent).
    pub event: Option<String>,
    /// The payload; line breaks become several `data:` lines.
    pub data: String,
    /// The reconnection delay the client should use.
    pub retry: Option<Duration>,
}

impl SseEvent {
    /// An event carrying `data`.
    pub fn new(data: impl Into<String>) -> Self {
        Self {
            data: data.into(),
            ..Self::default()
        }
    }

    /// Sets the id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the event type.
    pub fn event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(event.into());
        self
    }

    /// Sets the reconnection delay.
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The event on the wire. Line breaks in `id` and `event` would end the
    /// field early, and a NUL makes browsers ignore an id, so those are
    /// removed; `data` keeps every line.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.data.len() + 32);
        if let Some(id) = &self.id {
            put_field(&mut out, "id", &single_line(id, true));
        }
        if let Some(event) = &self.event {
            put_field(&mut out, "event", &single_line(event, false));
        }
        if let Some(retry) = self.retry {
            put_field(&mut out, "retry", &retry.as_millis().to_string());
        }
        put_data(&mut out, &self.data);
        out.put_u8(b'\n');
        out.freeze()
    }
}

/// Encodes a published message as `event: message` (text) or
/// `event: binary` (base64 data) with `id`.
///
/// ```
/// use xws::{Message, sse};
/// let wire = sse::encode_message(42, &Message::from(r#"{"a":1}"#));
/// assert_eq!(&wire[..], b"id: 42\nevent: message\ndata: {\"a\":1}\n\n");
/// ```
pub fn encode_message(id: u64, message: &Message) -> Bytes {
    encode_event(Some(&id.to_string()), message)
}

/// Encodes a message like [`encode_message`], with any `id` or none. An
/// event without an id leaves the browser's `Last-Event-ID` as it was: a
/// topic whose ids are stream positions sends its ephemeral events so.
///
/// ```
/// use xws::{Message, sse};
/// assert_eq!(&sse::encode_event(None, &Message::from("hi"))[..], b"event: message\ndata: hi\n\n");
/// ```
pub fn encode_event(id: Option<&str>, message: &Message) -> Bytes {
    let (event, data) = match message {
        Message::Text(text) => ("message", text.as_str().to_owned()),
        Message::Binary(bytes) => (
            "binary",
            base64::engine::general_purpose::STANDARD.encode(bytes),
        ),
    };
    let event = SseEvent::new(data).event(event);
    match id {
        Some(id) => event.id(id),
        None => event,
    }
    .encode()
}

/// A comment line, which clients ignore: used as a keep-alive.
///
/// ```
/// assert_eq!(&xws::sse::comment("keep-alive")[..], b": keep-alive\n\n");
/// ```
pub fn comment(text: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(text.len() + 4);
    for line in split_lines(text) {
        out.put_slice(b": ");
        out.put_slice(line.as_bytes());
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
    out.freeze()
}

/// Parses a `Last-Event-ID` header written by [`encode_message`]: a decimal
/// sequence number. Anything else (empty, too long, not a number) is `None`.
///
/// ```
/// use xws::sse::parse_last_event_id;
/// assert_eq!(parse_last_event_id(" 42 "), Some(42));
/// assert_eq!(parse_last_event_id("x"), None);
/// assert_eq!(parse_last_event_id("99999999999999999999999"), None);
/// ```
pub fn parse_last_event_id(value: &str) -> Option<u64> {
    let value = value.trim();
    if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

fn put_field(out: &mut BytesMut, name: &str, value: &str) {
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value.as_bytes());
    out.put_u8(b'\n');
}

fn put_data(out: &mut BytesMut, data: &str) {
    for line in split_lines(data) {
        put_field(out, "data", line);
    }
}

/// Splits on `\r\n`, `\r` and `\n`, the three line ends of the SSE grammar.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            Some(i) => {
                let skip = if current[i..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = Some(&current[i + skip..]);
                Some(&current[..i])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

fn single_line(value: &str, strip_nul: bool) -> String {
    value
        .chars()
        .filter(|&c| c != '\r' && c != '\n' && !(strip_nul && c == '\0'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal SSE parser (per the WHATWG algorithm) to check round trips.
    fn parse(wire: &[u8]) -> Vec<(Option<String>, String)> {
        let text = std::str::from_utf8(wire).unwrap();
        let mut events = Vec::new();
        let (mut id, mut data): (Option<String>, Vec<String>) = (None, Vec::new());
        for line in split_lines(text) {
            if line.is_empty() {
                if !data.is_empty() {
                    events.push((id.take(), data.join("\n")));
                }
                data.clear();
            } else if let Some(v) = line.strip_prefix("data: ") {
                data.push(v.to_owned());
            } else if let Some(v) = line.strip_prefix("id: ") {
                id = Some(v.to_owned());
            }
        }
        events
    }

    #[test]
    fn data_with_every_kind_of_line_break_round_trips() {
        let data = "a\r\nb\rc\nd";
        let events = parse(&SseEvent::new(data).encode());
        assert_eq!(events, vec![(None, "a\nb\nc\nd".to_owned())]);
    }

    #[test]
    fn injected_fields_cannot_escape_the_id() {
        let wire = SseEvent::new("x").id("1\n\ndata: evil\0").encode();
        assert_eq!(
            parse(&wire),
            vec![(Some("1data: evil".to_owned()), "x".to_owned())]
        );
    }

    #[test]
    fn empty_data_is_one_empty_line() {
        assert_eq!(&SseEvent::new("").encode()[..], b"data: \n\n");
    }

    #[test]
    fn binary_is_base64() {
        let wire = encode_message(1, &Message::from(vec![0u8, 255]));
        assert_eq!(&wire[..], b"id: 1\nevent: binary\ndata: AP8=\n\n");
    }
}
