//! A publication kept in a topic's history, and how subscribers see it.

use bytes::Bytes;

use crate::{Message, PeerId, Text, sse};

use super::Position;

/// A publication with its place in the topic's stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    /// Where it is in the stream.
    pub position: Position,
    /// The message as the publisher gave it.
    pub message: Message,
    /// When the store appended it, in milliseconds since the Unix epoch
    /// (the store's clock).
    pub time_ms: u64,
    /// The peer that published it: live delivery skips it. Stores keep it
    /// so that every node, and a catch-up after a gap, skips it too.
    pub publisher: Option<PeerId>,
}

impl Publication {
    /// The offset in the stream.
    pub fn offset(&self) -> u64 {
        self.position.offset
    }

    /// The message as subscribers receive it. A JSON object (text starting
    /// with `{` and ending with `}`) gets the members `"offset"` and
    /// `"epoch"` appended, so a client learns its position from the
    /// message itself; any other message is delivered unchanged.
    ///
    /// ```
    /// use xws::{Message, stream::{Position, Publication}};
    /// let publication = Publication {
    ///     position: Position::new(7, "e1"),
    ///     message: Message::from(r#"{"type":"message","text":"hi"}"#),
    ///     time_ms: 0,
    ///     publisher: None,
    /// };
    /// assert_eq!(
    ///     publication.to_message().text().unwrap(),
    ///     r#"{"type":"message","text":"hi","offset":7,"epoch":"e1"}"#
    /// );
    /// ```
    pub fn to_message(&self) -> Message {
        let Message::Text(text) = &self.message else {
            return self.message.clone();
        };
        let trimmed = text.as_str().trim_end();
        let Some(body) = trimmed
            .strip_suffix('}')
            .filter(|_| trimmed.trim_start().starts_with('{'))
        else {
            return self.message.clone();
        };
        let empty = body
            .trim_start()
            .strip_prefix('{')
            .is_some_and(|rest| rest.trim().is_empty());
        // Written into one string: text from text needs no second UTF-8
        // check, and once per publication is worth one allocation, not three.
        let mut out = String::with_capacity(trimmed.len() + self.position.epoch.len() + 40);
        out.push_str(body);
        if !empty {
            out.push(',');
        }
        self.write_position_members(&mut out);
        out.push('}');
        Message::Text(Text::from(out))
    }

    /// Appends `"offset":N,"epoch":"E"`, the epoch JSON-escaped.
    fn write_position_members(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = write!(out, "\"offset\":{},\"epoch\":", self.position.offset);
        let epoch = &self.position.epoch;
        // Epochs are made of plain characters; anything else is escaped.
        if epoch
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            out.push('"');
            out.push_str(epoch);
            out.push('"');
        } else {
            match serde_json::to_string(epoch) {
                Ok(escaped) => out.push_str(&escaped),
                Err(_) => out.push_str("\"\""),
            }
        }
    }

    /// The publication as a Server-Sent Event whose `id` is its position,
    /// so an `EventSource` that reconnects sends it back in
    /// `Last-Event-ID` and resumes after it.
    ///
    /// ```
    /// use xws::{Message, stream::{Position, Publication}};
    /// let publication = Publication {
    ///     position: Position::new(3, "e1"),
    ///     message: Message::from("{}"),
    ///     time_ms: 0,
    ///     publisher: None,
    /// };
    /// assert_eq!(
    ///     &publication.to_sse()[..],
    ///     b"id: 3:e1\nevent: message\ndata: {\"offset\":3,\"epoch\":\"e1\"}\n\n"
    /// );
    /// ```
    pub fn to_sse(&self) -> Bytes {
        sse::encode_event(Some(&self.position.to_string()), &self.to_message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publication(message: Message) -> Publication {
        Publication {
            position: Position::new(12, "ab\"c"),
            message,
            time_ms: 0,
            publisher: None,
        }
    }

    #[test]
    fn objects_get_the_position_and_stay_valid_json() {
        for text in [r#"{"a":1}"#, " { \"a\" : [1,{}] }\n", "{}", "{ }"] {
            let message = publication(Message::from(text.to_owned())).to_message();
            let value: serde_json::Value = serde_json::from_str(message.text().unwrap()).unwrap();
            assert_eq!(value["offset"], 12, "{text}");
            assert_eq!(value["epoch"], "ab\"c", "{text}");
        }
    }

    #[test]
    fn anything_but_an_object_is_left_alone() {
        for text in ["[1,2]", "\"}\"", "42", "not json }", ""] {
            let message = Message::from(text.to_owned());
            assert_eq!(publication(message.clone()).to_message(), message, "{text}");
        }
        let binary = Message::from(vec![b'{', b'}']);
        assert_eq!(publication(binary.clone()).to_message(), binary);
    }
}
