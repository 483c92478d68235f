//! The chat protocol (examples/chat) from a client's point of view: frame builders and a
//! peer that speaks it. Everything here goes through a real [`WsClient`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::client::WsClient;
use crate::{ScenarioError, Target};

/// A name no other run (or concurrent scenario) uses: `prefix-<pid>-<time>-<counter>`.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{prefix}-{:x}-{:x}-{count}",
        std::process::id(),
        nanos & 0xffff_ffff_ffff
    )
}

/// `{"type":"join-room","roomId":room}`
pub fn join_room(room: &str) -> Value {
    json!({ "type": "join-room", "roomId": room })
}

/// `join-room` with `extra` fields (`since`, `presence`, `latest`) merged in.
pub fn join_room_with(room: &str, extra: Value) -> Value {
    let mut command = join_room(room);
    if let (Some(command), Value::Object(extra)) = (command.as_object_mut(), extra) {
        command.extend(extra);
    }
    command
}

/// `{"type":"history","roomId":room,"limit":limit}`
pub fn history(room: &str, limit: usize) -> Value {
    json!({ "type": "history", "roomId": room, "limit": limit })
}

/// `{"type":"presence","roomId":room}`
pub fn presence(room: &str) -> Value {
    json!({ "type": "presence", "roomId": room })
}

/// The stream position a frame carries: its integer `"offset"` and string `"epoch"`.
pub fn position_of(frame: &Value) -> Result<(u64, String), ScenarioError> {
    match (frame["offset"].as_u64(), frame["epoch"].as_str()) {
        (Some(offset), Some(epoch)) if !epoch.is_empty() => Ok((offset, epoch.to_owned())),
        _ => Err(ScenarioError::mismatch(
            format!("the position of {frame}"),
            "an integer \"offset\" and a non-empty string \"epoch\"",
            frame,
        )),
    }
}

/// `{"offset":offset,"epoch":epoch}`, as `join-room` takes it in `since`.
pub fn since(offset: u64, epoch: &str) -> Value {
    json!({ "offset": offset, "epoch": epoch })
}

/// `{"type":"leave-room","roomId":room}`
pub fn leave_room(room: &str) -> Value {
    json!({ "type": "leave-room", "roomId": room })
}

/// `{"type":"send-to-room","roomId":room,"text":text}`
pub fn send_to_room(room: &str, text: &str) -> Value {
    json!({ "type": "send-to-room", "roomId": room, "text": text })
}

/// `{"type":"typing","roomId":room}`
pub fn typing(room: &str) -> Value {
    json!({ "type": "typing", "roomId": room })
}

/// `{"type":"ping"}`
pub fn ping() -> Value {
    json!({ "type": "ping" })
}

/// Whether `frame` is a room message in `room`.
pub fn is_message_in(frame: &Value, room: &str) -> bool {
    frame["type"] == "message" && frame["roomId"] == room
}

/// Whether `frame` is any frame about `room` (message, typing, joined, left).
pub fn is_about_room(frame: &Value, room: &str) -> bool {
    frame["roomId"] == room
}

/// A chat participant: a WebSocket plus the id the server gave it in `welcome`.
#[derive(Debug)]
pub struct ChatPeer {
    /// The underlying socket, for raw frames and assertions on what was passed over.
    pub ws: WsClient,
    /// The `id` from the `welcome` frame, as the server sent it.
    pub id: Value,
    /// The `?user=` this peer connected with.
    pub user: Option<String>,
}

impl ChatPeer {
    /// Connects as the scenario's `index`-th peer (which picks the node) and waits for
    /// `welcome`.
    pub async fn open(
        target: &Target,
        index: usize,
        user: Option<&str>,
    ) -> Result<Self, ScenarioError> {
        let label = match user {
            Some(user) => format!("peer {index} ({user})"),
            None => format!("peer {index}"),
        };
        let url = target.ws_url(index, user);
        let mut ws = WsClient::connect(&url, label, target.timeout).await?;
        if target.binary_as_text {
            ws.send_binary_as_text();
        }
        let welcome = ws.recv_type("welcome").await?;
        let id = welcome["id"].clone();
        if id.is_null() || id == "" {
            return Err(ScenarioError::mismatch(
                format!("{}: welcome", ws.label()),
                "a non-empty \"id\"",
                welcome,
            ));
        }
        Ok(Self {
            ws,
            id,
            user: user.map(str::to_owned),
        })
    }

    /// Opens `count` peers, peer `i` on node `i % nodes`, all with the same user.
    pub async fn open_many(
        target: &Target,
        count: usize,
        user: Option<&str>,
    ) -> Result<Vec<Self>, ScenarioError> {
        let opening = (0..count).map(|index| Self::open(target, index, user));
        futures_util::future::try_join_all(opening).await
    }

    /// Joins `room` and waits for `joined`.
    pub async fn join(&mut self, room: &str) -> Result<(), ScenarioError> {
        self.command(&join_room(room), "joined", room).await
    }

    /// Sends `join-room` with `extra` fields and returns the `joined` answer, after
    /// checking that no message of the room arrived before it.
    pub async fn join_with(&mut self, room: &str, extra: Value) -> Result<Value, ScenarioError> {
        self.ws.send_json(&join_room_with(room, extra)).await?;
        let joined = self
            .ws
            .recv_json_matching(&format!("joined {room}"), |frame| {
                frame["type"] == "joined" && frame["roomId"] == room
            })
            .await?;
        self.ws
            .ensure_none_passed_over("a room message before `joined`", |frame| {
                is_message_in(frame, room)
            })?;
        Ok(joined)
    }

    /// The next room message in `room`, in arrival order.
    pub async fn next_message(&mut self, room: &str) -> Result<Value, ScenarioError> {
        self.ws
            .recv_json_matching(&format!("a message in {room}"), |frame| {
                is_message_in(frame, room)
            })
            .await
    }

    /// Leaves `room` and waits for `left`.
    pub async fn leave(&mut self, room: &str) -> Result<(), ScenarioError> {
        self.command(&leave_room(room), "left", room).await
    }

    async fn command(
        &mut self,
        command: &Value,
        answer: &str,
        room: &str,
    ) -> Result<(), ScenarioError> {
        self.ws.send_json(command).await?;
        self.ws
            .recv_json_matching(&format!("{answer} {room}"), |frame| {
                frame["type"] == answer && frame["roomId"] == room
            })
            .await
            .map(drop)
    }

    /// Sends `text` to `room`.
    pub async fn say(&mut self, room: &str, text: &str) -> Result<(), ScenarioError> {
        self.ws.send_json(&send_to_room(room, text)).await
    }

    /// Waits for the room message in `room` with exactly `text`.
    pub async fn recv_message(&mut self, room: &str, text: &str) -> Result<Value, ScenarioError> {
        self.ws
            .recv_json_matching(&format!("message {text:?} in {room}"), |frame| {
                is_message_in(frame, room) && frame["text"] == text
            })
            .await
    }

    /// Round-trips a ping: once the pong is back, everything the server sent this peer
    /// before it has been read (and kept in `ws.passed_over()` if unexpected).
    pub async fn sync(&mut self) -> Result<(), ScenarioError> {
        self.ws.send_json(&ping()).await?;
        self.ws.recv_type("pong").await.map(drop)
    }

    /// After [`Self::sync`], fails if any frame about `room` arrived unasked.
    pub async fn ensure_nothing_from(
        &mut self,
        room: &str,
        why: &str,
    ) -> Result<(), ScenarioError> {
        self.sync().await?;
        self.ws.ensure_none_passed_over(why, |frame| {
            frame["type"] != "joined" && frame["type"] != "left" && is_about_room(frame, room)
        })
    }
}

/// Checks the fields of a room message against what was sent.
pub fn check_message(
    frame: &Value,
    room: &str,
    from: &ChatPeer,
    text: &str,
) -> Result<(), ScenarioError> {
    let expected_user = from.user.as_deref().map_or(Value::Null, Value::from);
    let checks = [
        ("type", Value::from("message"), &frame["type"]),
        ("roomId", Value::from(room), &frame["roomId"]),
        ("from", from.id.clone(), &frame["from"]),
        ("user", expected_user, &frame["user"]),
        ("text", Value::from(text), &frame["text"]),
    ];
    for (field, expected, got) in checks {
        if &expected != got {
            return Err(ScenarioError::mismatch(
                format!("message field {field:?} in {frame}"),
                expected.to_string(),
                got,
            ));
        }
    }
    check_timestamp(frame)
}

fn check_timestamp(frame: &Value) -> Result<(), ScenarioError> {
    // Millis since the epoch: after 2020 and not more than a day ahead of this clock.
    const EARLIEST: u64 = 1_577_836_800_000;
    const DAY_MS: u64 = 86_400_000;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64);
    match frame["timestamp"].as_u64() {
        Some(millis) if (EARLIEST..now + DAY_MS).contains(&millis) => Ok(()),
        _ => Err(ScenarioError::mismatch(
            format!("message field \"timestamp\" in {frame}"),
            "milliseconds since the Unix epoch (integer)",
            &frame["timestamp"],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_differ() {
        assert_ne!(unique_name("room"), unique_name("room"));
        assert!(unique_name("room").starts_with("room-"));
    }

    #[test]
    fn timestamps_must_be_epoch_millis() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(check_timestamp(&json!({ "timestamp": now })).is_ok());
        assert!(check_timestamp(&json!({ "timestamp": now / 1000 })).is_err());
        assert!(check_timestamp(&json!({ "timestamp": now.to_string() })).is_err());
        assert!(check_timestamp(&json!({})).is_err());
    }
}
