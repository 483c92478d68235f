//! Streams: the client's side of recovery (`xws::stream`).
//!
//! A publication to a topic that keeps history carries its position
//! (`"offset"` and `"epoch"` members). The client keeps, per stream, the
//! offset up to which it has seen every publication, drops one it saw
//! already, and re-subscribes every stream from its position after each
//! reconnect, so the server replays what was missed. The same rules as
//! `xws.js`, so a Rust service and a page see a stream alike.

use serde_json::Value;
use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};
use xws::{Message, stream::Position};

/// Which stream a JSON message belongs to (`None`: not a publication of a
/// stream). The default is the message's `"topic"` member.
pub type StreamOf = Arc<dyn Fn(&Value) -> Option<String> + Send + Sync>;

/// Builds the message that (re)subscribes a stream from the last position
/// the client saw on it (`None` before its first publication).
pub type Resubscribe = Arc<dyn Fn(Option<&Position>) -> Message + Send + Sync>;

/// The default [`StreamOf`]: a publication's `"topic"` member.
pub(crate) fn topic_member() -> StreamOf {
    Arc::new(|message| message.get("topic")?.as_str().map(str::to_owned))
}

/// Where the client is in each stream, and how to re-subscribe each.
#[derive(Default)]
pub(crate) struct Streams {
    seen: HashMap<String, Seen>,
    /// In subscription order, so streams re-subscribe in the order the app
    /// asked for them.
    subscriptions: Vec<(String, Resubscribe)>,
}

/// What was seen of one stream.
struct Seen {
    /// Every publication up to here was seen.
    position: Position,
    /// Offsets seen past a gap (publishers on AWS post in parallel, so one
    /// may overtake another): a recovery from `position` fills the gap, and
    /// these are then dropped as duplicates.
    ahead: BTreeSet<u64>,
}

impl Streams {
    /// Registers `stream` (replacing an earlier registration) and returns
    /// the message that subscribes it now.
    pub(crate) fn subscribe(&mut self, stream: String, build: Resubscribe) -> Message {
        let message = build(self.position(&stream).as_ref());
        self.subscriptions.retain(|(name, _)| *name != stream);
        self.subscriptions.push((stream, build));
        message
    }

    /// Stops re-subscribing `stream` and forgets its position.
    pub(crate) fn unsubscribe(&mut self, stream: &str) {
        self.subscriptions.retain(|(name, _)| name != stream);
        self.seen.remove(stream);
    }

    /// The position up to which every publication of `stream` was seen.
    pub(crate) fn position(&self, stream: &str) -> Option<Position> {
        self.seen.get(stream).map(|seen| seen.position.clone())
    }

    /// The messages that re-subscribe every stream, after a reconnect.
    pub(crate) fn resubscriptions(&self) -> Vec<Message> {
        self.subscriptions
            .iter()
            .map(|(stream, build)| build(self.position(stream).as_ref()))
            .collect()
    }

    /// Records `message`'s position if it is a publication of a stream;
    /// true when it was seen already (the app must not see it again).
    pub(crate) fn is_duplicate(&mut self, message: &Value, stream_of: &StreamOf) -> bool {
        let (Some(offset), Some(epoch)) = (
            message.get("offset").and_then(Value::as_u64),
            message.get("epoch").and_then(Value::as_str),
        ) else {
            return false;
        };
        let Some(stream) = stream_of(message) else {
            return false;
        };
        match self.seen.get_mut(&stream) {
            Some(seen) if seen.position.epoch == epoch => seen.observe(offset),
            // The first publication seen, or a new epoch: history was lost
            // or reset, so this one is where the stream stands now.
            _ => {
                let seen = Seen {
                    position: Position::new(offset, epoch),
                    ahead: BTreeSet::new(),
                };
                self.seen.insert(stream, seen);
                false
            }
        }
    }
}

impl Seen {
    /// Records `offset` in the same epoch; true when it was seen already.
    fn observe(&mut self, offset: u64) -> bool {
        if offset <= self.position.offset || !self.ahead.insert(offset) {
            return true;
        }
        // Move up through every offset now contiguous with the position.
        while self.ahead.remove(&(self.position.offset + 1)) {
            self.position.offset += 1;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn publication(offset: u64, epoch: &str) -> Value {
        json!({"topic": "room:1", "text": "hi", "offset": offset, "epoch": epoch})
    }

    fn seen(streams: &mut Streams, offset: u64, epoch: &str) -> bool {
        streams.is_duplicate(&publication(offset, epoch), &topic_member())
    }

    #[test]
    fn a_publication_seen_twice_is_a_duplicate() {
        let mut streams = Streams::default();
        assert!(!seen(&mut streams, 1, "e1"));
        assert!(!seen(&mut streams, 2, "e1"));
        assert!(seen(&mut streams, 2, "e1"));
        assert!(seen(&mut streams, 1, "e1"));
        assert_eq!(streams.position("room:1"), Some(Position::new(2, "e1")));
    }

    #[test]
    fn the_position_waits_at_a_gap_until_it_is_filled() {
        let mut streams = Streams::default();
        assert!(!seen(&mut streams, 1, "e1"));
        assert!(!seen(&mut streams, 3, "e1"));
        // 3 overtook 2: the position stays at 1, so a recovery asks for 2.
        assert_eq!(streams.position("room:1"), Some(Position::new(1, "e1")));
        assert!(seen(&mut streams, 3, "e1"), "3 again, from a recovery");
        assert!(!seen(&mut streams, 2, "e1"));
        assert_eq!(streams.position("room:1"), Some(Position::new(3, "e1")));
    }

    #[test]
    fn a_new_epoch_starts_the_stream_over() {
        let mut streams = Streams::default();
        assert!(!seen(&mut streams, 7, "e1"));
        assert!(!seen(&mut streams, 1, "e2"));
        assert_eq!(streams.position("room:1"), Some(Position::new(1, "e2")));
    }

    #[test]
    fn messages_without_a_position_or_a_stream_are_never_duplicates() {
        let mut streams = Streams::default();
        let typing = json!({"topic": "room:1", "type": "typing"});
        assert!(!streams.is_duplicate(&typing, &topic_member()));
        assert!(!streams.is_duplicate(&typing, &topic_member()));
        let no_stream = json!({"offset": 1, "epoch": "e1"});
        assert!(!streams.is_duplicate(&no_stream, &topic_member()));
        assert!(!streams.is_duplicate(&no_stream, &topic_member()));
        assert_eq!(streams.position("room:1"), None);
    }

    #[test]
    fn resubscriptions_carry_each_streams_position_in_order() {
        let mut streams = Streams::default();
        let build = |room: &'static str| -> Resubscribe {
            Arc::new(move |since| {
                Message::json(&json!({"join": room, "since": since})).expect("json")
            })
        };
        let first = streams.subscribe("room:1".into(), build("room:1"));
        assert_eq!(first.text().ok(), Some(r#"{"join":"room:1","since":null}"#));
        streams.subscribe("room:2".into(), build("room:2"));
        assert!(!seen(&mut streams, 4, "e1"));
        let again: Vec<Value> = streams
            .resubscriptions()
            .iter()
            .map(|m| serde_json::from_str(m.text().expect("text")).expect("JSON"))
            .collect();
        assert_eq!(
            again,
            [
                json!({"join": "room:1", "since": {"offset": 4, "epoch": "e1"}}),
                json!({"join": "room:2", "since": null}),
            ]
        );
        streams.unsubscribe("room:1");
        assert_eq!(streams.resubscriptions().len(), 1);
        assert_eq!(streams.position("room:1"), None);
    }
}
