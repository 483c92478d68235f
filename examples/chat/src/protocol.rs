//! The chat's JSON messages, exactly as on the wire.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use xws::stream::Position;

/// A room id as the client sent it: a string or a number, echoed back as is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RoomId {
    /// `"roomId": "lobby"`
    Name(String),
    /// `"roomId": 7`
    Number(serde_json::Number),
}

impl RoomId {
    /// Topics of rooms start with this prefix.
    pub const TOPIC_PREFIX: &'static str = "room:";

    /// The topic of this room: `room:{id}`.
    pub fn topic(&self) -> String {
        match self {
            RoomId::Name(name) => format!("{}{name}", Self::TOPIC_PREFIX),
            RoomId::Number(n) => format!("{}{n}", Self::TOPIC_PREFIX),
        }
    }
}

/// What a client sends.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ClientMessage {
    /// Subscribe to `room:{roomId}`.
    #[serde(rename_all = "camelCase")]
    JoinRoom {
        /// The room.
        room_id: RoomId,
        /// The last position the client saw: the room's messages after it
        /// follow `joined`, or `joined` says `recovered: false`.
        #[serde(default)]
        since: Option<Position>,
        /// Receive `user-joined` and `user-left` for this room.
        #[serde(default)]
        presence: bool,
        /// Cache mode: the room's newest message follows `joined` (unless
        /// `since` recovered everything).
        #[serde(default)]
        latest: bool,
    },
    /// Unsubscribe from `room:{roomId}`.
    #[serde(rename_all = "camelCase")]
    LeaveRoom {
        /// The room.
        room_id: RoomId,
    },
    /// Publish `text` to the room's other members.
    #[serde(rename_all = "camelCase")]
    SendToRoom {
        /// The room.
        room_id: RoomId,
        /// The message text.
        text: String,
    },
    /// Tell the room's other members this peer is typing.
    #[serde(rename_all = "camelCase")]
    Typing {
        /// The room.
        room_id: RoomId,
    },
    /// The room's last `limit` messages, oldest first.
    #[serde(rename_all = "camelCase")]
    History {
        /// The room.
        room_id: RoomId,
        /// How many (the room's whole history when absent).
        #[serde(default)]
        limit: Option<usize>,
    },
    /// Who is in the room.
    #[serde(rename_all = "camelCase")]
    Presence {
        /// The room.
        room_id: RoomId,
    },
    /// Answered with `pong`.
    Ping,
}

impl ClientMessage {
    const TYPES: [&'static str; 7] = [
        "join-room",
        "leave-room",
        "send-to-room",
        "typing",
        "history",
        "presence",
        "ping",
    ];

    /// The room the command is about, if any.
    pub fn room_id(&self) -> Option<&RoomId> {
        match self {
            ClientMessage::JoinRoom { room_id, .. }
            | ClientMessage::LeaveRoom { room_id }
            | ClientMessage::SendToRoom { room_id, .. }
            | ClientMessage::Typing { room_id }
            | ClientMessage::History { room_id, .. }
            | ClientMessage::Presence { room_id } => Some(room_id),
            ClientMessage::Ping => None,
        }
    }
}

/// Parses a text frame: `Ok(Some)` for a chat command, `Ok(None)` for any
/// other JSON (echoed back), `Err` with a message for the client when the
/// text is not JSON or a known command is malformed.
///
/// ```
/// use chat::protocol::{parse, ClientMessage};
/// assert_eq!(parse(r#"{"type":"ping"}"#), Ok(Some(ClientMessage::Ping)));
/// assert_eq!(parse(r#"{"hello":1}"#), Ok(None));
/// assert!(parse("not json").is_err());
/// assert!(parse(r#"{"type":"join-room"}"#).unwrap_err().contains("roomId"));
/// ```
pub fn parse(text: &str) -> Result<Option<ClientMessage>, String> {
    // The common case, a well-formed command, is parsed once; only what is
    // not one is looked at again to tell echo from error. JSON is read from
    // bytes here as everywhere in the chat and xws: a Worker's module then
    // holds one serde_json reader, not one for `&str` beside it.
    let command = match serde_json::from_slice::<ClientMessage>(text.as_bytes()) {
        Ok(command) => command,
        Err(_) => match classify(text)? {
            Some(command) => command,
            None => return Ok(None),
        },
    };
    // A room that cannot be a topic is the client's mistake: answer it here
    // rather than fail the peer with 1011 when subscribing.
    if let Some(room) = command.room_id() {
        xws::Topic::new(room.topic()).map_err(|e| format!("invalid roomId: {e}"))?;
    }
    Ok(Some(command))
}

/// Text the direct parse refused: other JSON is echoed (`Ok(None)`); invalid
/// JSON, or a known command with bad fields, is an error message; what the
/// lenient `Value` route still reads as a command (duplicate keys) is one.
fn classify(text: &str) -> Result<Option<ClientMessage>, String> {
    let value: Value = serde_json::from_slice(text.as_bytes())
        .map_err(|e| format!("message is not valid JSON: {e}"))?;
    let known = value
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| ClientMessage::TYPES.contains(&t));
    if !known {
        return Ok(None);
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| format!("malformed command: {e}"))
}

/// What the server sends.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage {
    /// First message on every connection.
    Welcome {
        /// The peer's id.
        id: String,
    },
    /// Answer to `join-room`.
    #[serde(rename_all = "camelCase")]
    Joined {
        /// The room.
        room_id: RoomId,
        /// The room's current offset (absent where the target keeps no history).
        #[serde(skip_serializing_if = "Option::is_none")]
        offset: Option<u64>,
        /// The room's current epoch.
        #[serde(skip_serializing_if = "Option::is_none")]
        epoch: Option<String>,
        /// With `since`: whether every message after it follows.
        #[serde(skip_serializing_if = "Option::is_none")]
        recovered: Option<bool>,
    },
    /// Answer to `leave-room`.
    #[serde(rename_all = "camelCase")]
    Left {
        /// The room.
        room_id: RoomId,
    },
    /// A room message, to every member but the sender.
    #[serde(rename_all = "camelCase")]
    Message {
        /// The room.
        room_id: RoomId,
        /// The sender's peer id.
        from: String,
        /// The sender's user name, or `null`.
        user: Option<String>,
        /// The text.
        text: String,
        /// Milliseconds since the Unix epoch.
        timestamp: u64,
        /// The room's topic (not on the wire).
        #[serde(skip)]
        topic: String,
    },
    /// Someone in the room is typing.
    #[serde(rename_all = "camelCase")]
    UserTyping {
        /// The room.
        room_id: RoomId,
        /// The typing peer's id.
        user_id: String,
        /// The room's topic (not on the wire).
        #[serde(skip)]
        topic: String,
    },
    /// Answer to `history`: the room's last messages, oldest first, and
    /// its current position.
    #[serde(rename_all = "camelCase")]
    History {
        /// The room.
        room_id: RoomId,
        /// The messages as members received them (with `offset` and `epoch`).
        messages: Vec<Value>,
        /// The room's current offset.
        offset: u64,
        /// The room's current epoch.
        epoch: String,
    },
    /// Answer to `presence`.
    #[serde(rename_all = "camelCase")]
    Presence {
        /// The room.
        room_id: RoomId,
        /// Who is in it.
        members: Vec<PresenceMember>,
    },
    /// A member joined a room (to members that joined with `presence`).
    #[serde(rename_all = "camelCase")]
    UserJoined {
        /// The room.
        room_id: RoomId,
        /// The member's peer id.
        id: String,
        /// Its user name, or `null`.
        user: Option<String>,
    },
    /// A member left a room or closed its connection.
    #[serde(rename_all = "camelCase")]
    UserLeft {
        /// The room.
        room_id: RoomId,
        /// The member's peer id.
        id: String,
        /// Its user name, or `null`.
        user: Option<String>,
    },
    /// Answer to `ping`.
    Pong,
    /// Any other JSON, sent back.
    Echo {
        /// The JSON the client sent.
        data: Value,
    },
    /// The client sent something the chat cannot use.
    Error {
        /// What was wrong.
        message: String,
    },
    /// A broadcast from `POST /api/broadcast`.
    Broadcast {
        /// The event name.
        event: Value,
        /// The payload.
        data: Value,
    },
}

impl ServerMessage {
    /// The topic a room message goes to (empty for the others).
    pub fn topic(&self) -> &str {
        match self {
            ServerMessage::Message { topic, .. } | ServerMessage::UserTyping { topic, .. } => topic,
            _ => "",
        }
    }
}

/// One member in a `presence` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresenceMember {
    /// The peer id.
    pub id: String,
    /// The user name, or `null`.
    pub user: Option<String>,
}

/// The body of `POST /api/broadcast`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct BroadcastRequest {
    /// The event name.
    pub event: Value,
    /// The payload.
    #[serde(default)]
    pub data: Value,
}

/// The answer to `POST /api/broadcast`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BroadcastReply {
    /// Always `true` when the broadcast was sent.
    pub success: bool,
    /// Peers it was handed to.
    pub delivered: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_ids_keep_their_json_type() {
        let Some(ClientMessage::JoinRoom { room_id, .. }) =
            parse(r#"{"type":"join-room","roomId":7}"#).unwrap()
        else {
            panic!("expected join-room");
        };
        assert_eq!(room_id.topic(), "room:7");
        let joined = ServerMessage::Joined {
            room_id,
            offset: None,
            epoch: None,
            recovered: None,
        };
        let joined = serde_json::to_string(&joined).unwrap();
        assert_eq!(joined, r#"{"type":"joined","roomId":7}"#);
    }

    #[test]
    fn join_room_takes_a_position_and_joined_answers_with_one() {
        let command = r#"{"type":"join-room","roomId":"a","since":{"offset":4,"epoch":"e1"},"presence":true}"#;
        let Some(ClientMessage::JoinRoom {
            since, presence, ..
        }) = parse(command).unwrap()
        else {
            panic!("expected join-room");
        };
        assert_eq!(since, Some(Position::new(4, "e1")));
        assert!(presence);
        let joined = ServerMessage::Joined {
            room_id: RoomId::Name("a".into()),
            offset: Some(9),
            epoch: Some("e1".into()),
            recovered: Some(true),
        };
        assert_eq!(
            serde_json::to_string(&joined).unwrap(),
            r#"{"type":"joined","roomId":"a","offset":9,"epoch":"e1","recovered":true}"#
        );
        assert!(parse(r#"{"type":"join-room","roomId":"a","since":{"offset":"x"}}"#).is_err());
    }

    #[test]
    fn message_serializes_exactly_as_the_protocol_says() {
        let msg = ServerMessage::Message {
            room_id: RoomId::Name("a".into()),
            from: "p1".into(),
            user: None,
            text: "hi".into(),
            timestamp: 5,
            topic: "room:a".into(),
        };
        assert_eq!(
            serde_json::to_string(&msg).unwrap(),
            r#"{"type":"message","roomId":"a","from":"p1","user":null,"text":"hi","timestamp":5}"#
        );
    }

    #[test]
    fn a_room_that_cannot_be_a_topic_is_a_client_error() {
        // Found by the chat_protocol fuzz target: these used to reach
        // `subscribe`/`publish`, fail there and close the peer with 1011.
        let long = "x".repeat(300);
        for bad in [
            r#"{"type":"join-room","roomId":"a\nb"}"#.to_owned(),
            format!(r#"{{"type":"send-to-room","roomId":"{long}","text":"hi"}}"#),
            r#"{"type":"typing","roomId":"\u0000"}"#.to_owned(),
        ] {
            let problem = parse(&bad).unwrap_err();
            assert!(problem.starts_with("invalid roomId"), "{bad}: {problem}");
        }
    }

    #[test]
    fn unknown_types_and_untyped_json_are_echoed() {
        assert_eq!(parse(r#"{"type":"dance"}"#), Ok(None));
        assert_eq!(parse("[1,2]"), Ok(None));
        assert_eq!(parse("42"), Ok(None));
    }
}
