//! Messages: text or binary, cheap to clone and share between subscribers.

use bytes::Bytes;
use bytestring::ByteString;
use serde::{Serialize, de::DeserializeOwned};
use std::fmt;

use crate::Error;

/// UTF-8 text backed by shared [`Bytes`]: cloning never copies the payload.
///
/// Built on [`bytestring::ByteString`] (validated once, then borrowed as
/// `&str` for free).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(ByteString);

impl Text {
    /// The text as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The UTF-8 bytes, shared.
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// Consumes the text, returning its bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }

    /// Validates `bytes` as UTF-8 without copying them.
    pub fn from_utf8(bytes: Bytes) -> Result<Self, Error> {
        ByteString::try_from(bytes)
            .map(Self)
            .map_err(|_| Error::InvalidUtf8)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self(ByteString::from(s))
    }
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Self {
        Self(ByteString::from_static(s))
    }
}

/// A WebSocket (or SSE) message.
///
/// Payloads are [`Bytes`], so a message published to ten thousand peers is
/// encoded once and shared by all of them.
///
/// ```
/// use xws::Message;
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct Ping { n: u32 }
///
/// let msg = Message::json(&Ping { n: 7 }).unwrap();
/// assert_eq!(msg.text().unwrap(), r#"{"n":7}"#);
/// assert_eq!(msg.decode::<Ping>().unwrap(), Ping { n: 7 });
/// assert!(Message::from(vec![1, 2, 3]).is_binary());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A UTF-8 text message.
    Text(Text),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// Serializes `value` as JSON into a text message.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        Ok(Message::Text(Text::from(serde_json::to_string(value)?)))
    }

    /// The text, or [`Error::NotText`] for a binary message.
    pub fn text(&self) -> Result<&str, Error> {
        match self {
            Message::Text(text) => Ok(text.as_str()),
            Message::Binary(_) => Err(Error::NotText),
        }
    }

    /// The raw payload, text or binary.
    pub fn bytes(&self) -> &Bytes {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// Decodes the payload (text or binary) as JSON.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, Error> {
        Ok(serde_json::from_slice(self.bytes())?)
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes().is_empty()
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::Text(s.into())
    }
}

impl From<&'static str> for Message {
    fn from(s: &'static str) -> Self {
        Message::Text(s.into())
    }
}

impl From<Text> for Message {
    fn from(t: Text) -> Self {
        Message::Text(t)
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Message::Binary(b)
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Message::Binary(b.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rejects_invalid_utf8() {
        assert!(matches!(
            Text::from_utf8(Bytes::from_static(&[0xff, 0xfe])),
            Err(Error::InvalidUtf8)
        ));
    }

    #[test]
    fn binary_is_not_text_but_decodes_as_json() {
        let msg = Message::from(br#"{"a":1}"#.to_vec());
        assert!(matches!(msg.text(), Err(Error::NotText)));
        let value: serde_json::Value = msg.decode().unwrap();
        assert_eq!(value["a"], 1);
    }

    #[test]
    fn malformed_json_is_an_error() {
        let msg = Message::from("{not json");
        assert!(matches!(
            msg.decode::<serde_json::Value>(),
            Err(Error::Json(_))
        ));
    }
}
