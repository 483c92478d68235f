//! Presence: who is subscribed to a topic, and their join/leave events.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Message, PeerId, Topic};

/// One member of a topic's presence: a peer and the small, handler-chosen
/// `info` it subscribed with (a user name, an avatar URL). `info` travels
/// to every member list and event, so keep it small.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The peer.
    pub id: PeerId,
    /// What the handler chose to show about it; `null` by default.
    #[serde(default)]
    pub info: Value,
}

/// Whether a member came or went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresenceChange {
    /// It subscribed.
    Join,
    /// It unsubscribed or its connection closed.
    Leave,
}

/// A join or leave, delivered to the topic's subscribers that asked for
/// such events (never to the member itself).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresenceEvent {
    /// Join or leave.
    pub change: PresenceChange,
    /// The topic.
    pub topic: Topic,
    /// Who.
    pub member: Member,
}

impl PresenceEvent {
    /// The default wording: `{"type":"join"|"leave","topic":…,"id":…,"info":…}`.
    ///
    /// ```
    /// use xws::{Topic, stream::{Member, PresenceChange, PresenceEvent}};
    /// let event = PresenceEvent {
    ///     change: PresenceChange::Join,
    ///     topic: Topic::new("room:1").unwrap(),
    ///     member: Member { id: "p1".into(), info: serde_json::json!("ada") },
    /// };
    /// assert_eq!(
    ///     event.to_message().text().unwrap(),
    ///     r#"{"type":"join","topic":"room:1","id":"p1","info":"ada"}"#
    /// );
    /// ```
    pub fn to_message(&self) -> Message {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(rename = "type")]
            change: PresenceChange,
            topic: &'a Topic,
            id: &'a PeerId,
            info: &'a Value,
        }
        let wire = Wire {
            change: self.change,
            topic: &self.topic,
            id: &self.member.id,
            info: &self.member.info,
        };
        // Serializing plain strings and a `Value` cannot fail.
        Message::json(&wire).unwrap_or_else(|_| Message::from("{}"))
    }
}
