//! What the chat keeps per room: its last messages (history, so a client
//! that reconnects gets what it missed) and who is in it (presence).

use std::time::Duration;

use serde_json::Value;
use xws::{
    Message,
    stream::{PresenceChange, PresenceEvent, Retention, StreamConfig, TopicPolicy},
};

use crate::protocol::{RoomId, ServerMessage};

/// Messages kept per room when `CHAT_HISTORY_SIZE` is not set.
pub const DEFAULT_SIZE: usize = 100;
/// How long a message is kept when `CHAT_HISTORY_TTL_SECS` is not set.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// A room's retention from `CHAT_HISTORY_SIZE` (messages) and
/// `CHAT_HISTORY_TTL_SECS`, by default the last 100 messages for 5 minutes.
/// A value that is not a number is an error, not a silent default.
pub fn retention_from_env() -> Result<Retention, String> {
    retention_from(|name| std::env::var(name).ok())
}

/// The same, reading each setting with `lookup` (a Worker's vars, a
/// Lambda's environment).
pub fn retention_from(lookup: impl Fn(&str) -> Option<String>) -> Result<Retention, String> {
    let number = |name: &str| match lookup(name) {
        Some(value) => value
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| format!("{name} must be a whole number, got {value:?}")),
        None => Ok(None),
    };
    let size = number("CHAT_HISTORY_SIZE")?.map_or(DEFAULT_SIZE, |n| n as usize);
    let ttl = number("CHAT_HISTORY_TTL_SECS")?.map_or(DEFAULT_TTL, Duration::from_secs);
    Ok(Retention::new(size, ttl))
}

/// Rooms (`room:*`) keep `retention` of history and presence; join and
/// leave events are worded `user-joined` / `user-left`.
pub fn stream_config(retention: Retention) -> StreamConfig {
    let rooms = TopicPolicy::history(retention)
        .with_presence()
        .with_presence_format(presence_message);
    StreamConfig::new().rule(&format!("{}*", RoomId::TOPIC_PREFIX), rooms)
}

/// The presence info of a member: its user name and the room id as the
/// client wrote it (a number stays a number in `user-joined`).
pub fn member_info(room_id: &RoomId, user: Option<&str>) -> Value {
    serde_json::json!({ "roomId": room_id, "user": user })
}

/// The user name in a member's info.
pub fn member_user(info: &Value) -> Option<String> {
    info.get("user").and_then(Value::as_str).map(str::to_owned)
}

/// `{"type":"user-joined"|"user-left","roomId":R,"id":…,"user":…}`.
pub fn presence_message(event: &PresenceEvent) -> Message {
    let info = &event.member.info;
    let room_id = serde_json::from_value(info["roomId"].clone()).unwrap_or_else(|_| {
        let name = event.topic.as_str();
        RoomId::Name(
            name.strip_prefix(RoomId::TOPIC_PREFIX)
                .unwrap_or(name)
                .to_owned(),
        )
    });
    let (id, user) = (event.member.id.to_string(), member_user(info));
    let message = match event.change {
        PresenceChange::Join => ServerMessage::UserJoined { room_id, id, user },
        PresenceChange::Leave => ServerMessage::UserLeft { room_id, id, user },
    };
    Message::json(&message).unwrap_or_else(|_| Message::from("{}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use xws::{Topic, stream::Member};

    #[test]
    fn presence_events_keep_the_room_id_as_the_client_wrote_it() {
        let event = PresenceEvent {
            change: PresenceChange::Leave,
            topic: Topic::new("room:7").unwrap(),
            member: Member {
                id: "p1".into(),
                info: member_info(&RoomId::Number(7.into()), Some("ada")),
            },
        };
        assert_eq!(
            presence_message(&event).text().unwrap(),
            r#"{"type":"user-left","roomId":7,"id":"p1","user":"ada"}"#
        );
    }

    #[test]
    fn rooms_keep_history_and_presence() {
        let config = stream_config(Retention::new(3, DEFAULT_TTL));
        assert_eq!(config.retention("room:a").unwrap().size, 3);
        assert!(config.presence("room:a"));
        assert!(config.policy("user:a").is_none());
    }
}
