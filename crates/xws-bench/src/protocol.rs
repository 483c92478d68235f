//! The small protocol shared by every server under test.
//!
//! - Any path but [`CHAT_PATH`] on the baselines and JS peers echoes every text and binary message.
//! - The chat protocol (a subset of `examples/chat`): `{"type":"join-room","roomId":R}` subscribes
//!   to room `R` and is answered with `{"type":"joined","roomId":R}`; `{"type":"send-to-room",
//!   "roomId":R,"text":T}` delivers a JSON message containing `T` to every other member.
//!
//! The load generator never depends on the exact shape of a delivered chat message: it looks for
//! a [`Stamp`] inside the text, which survives any JSON wrapping because it holds no character
//! JSON escapes.

use serde::{Deserialize, Serialize};

/// Path on which the baselines and JS peers speak the chat protocol.
pub const CHAT_PATH: &str = "/chat";

/// A request a chat client sends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ChatRequest {
    /// Subscribe to a room.
    #[serde(rename_all = "camelCase")]
    JoinRoom {
        /// The room to join.
        room_id: String,
    },
    /// Deliver `text` to every other member of the room.
    #[serde(rename_all = "camelCase")]
    SendToRoom {
        /// The room to publish to.
        room_id: String,
        /// The message text.
        text: String,
    },
}

/// The answer to a join, as the baselines send it.
pub fn joined_json(room_id: &str) -> String {
    serde_json::json!({ "type": "joined", "roomId": room_id }).to_string()
}

/// A room message as the baselines deliver it.
pub fn room_message_json(room_id: &str, from: u64, text: &str) -> String {
    serde_json::json!({ "type": "message", "roomId": room_id, "from": from, "text": text })
        .to_string()
}

/// Identification and send time carried inside every chat message the load generator sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Index of the sending client.
    pub sender: u32,
    /// Sequence number of the message for this sender.
    pub seq: u32,
    /// Send time in microseconds since the start of the run.
    pub sent_us: u64,
}

const STAMP_PREFIX: &str = "xb!";

impl Stamp {
    /// Encodes the stamp as text with no character JSON would escape.
    pub fn encode(&self) -> String {
        format!(
            "{STAMP_PREFIX}{}.{}.{}!",
            self.sender, self.seq, self.sent_us
        )
    }

    /// Finds a stamp anywhere inside `text` (for example inside a JSON envelope).
    pub fn find(text: &str) -> Option<Self> {
        let start = text.find(STAMP_PREFIX)? + STAMP_PREFIX.len();
        let rest = &text[start..];
        let body = &rest[..rest.find('!')?];
        let mut parts = body.split('.');
        let stamp = Self {
            sender: parts.next()?.parse().ok()?,
            seq: parts.next()?.parse().ok()?,
            sent_us: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(stamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_survives_a_json_envelope() {
        let stamp = Stamp {
            sender: 7,
            seq: 42,
            sent_us: 123_456,
        };
        let wrapped = room_message_json("r", 3, &stamp.encode());
        assert_eq!(Stamp::find(&wrapped), Some(stamp));
    }

    #[test]
    fn text_without_a_stamp_is_ignored() {
        assert_eq!(Stamp::find(r#"{"type":"joined","roomId":"r"}"#), None);
        assert_eq!(Stamp::find("xb!1.2!"), None);
    }

    #[test]
    fn chat_requests_use_the_wire_names() {
        let join: ChatRequest =
            serde_json::from_str(r#"{"type":"join-room","roomId":"bench"}"#).unwrap();
        assert_eq!(
            join,
            ChatRequest::JoinRoom {
                room_id: "bench".into()
            }
        );
        let send = serde_json::to_value(ChatRequest::SendToRoom {
            room_id: "r".into(),
            text: "t".into(),
        })
        .unwrap();
        assert_eq!(send["type"], "send-to-room");
        assert_eq!(send["roomId"], "r");
    }
}
