//! A topic broker's history, and the frames it sends a stream's socket.
//!
//! Each publication gets the next offset of the topic and the topic's epoch
//! (random, chosen at the first publication; a new one means the history
//! was lost). The object keeps the last publications within a
//! [`Retention`] in one storage value, written once per publication, so a
//! stream that reconnects with the position it last saw gets what it
//! missed, oldest first, before anything live.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use xws::stream::{Position, Publication, Retention};
use xws::{Error, Message, Text};

use crate::ids;

/// One kept publication.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    offset: u64,
    time_ms: u64,
    binary: bool,
    data: Vec<u8>,
}

impl Entry {
    fn message(&self) -> Result<Message, Error> {
        Ok(if self.binary {
            Message::from(self.data.clone())
        } else {
            Message::Text(Text::from_utf8(self.data.clone().into())?)
        })
    }
}

/// A topic's position and kept publications, as stored.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct History {
    epoch: String,
    last: u64,
    entries: VecDeque<Entry>,
}

impl History {
    /// Keeps a new publication; returns it as stored.
    pub(crate) fn append(
        &mut self,
        binary: bool,
        data: Vec<u8>,
        now_ms: u64,
        retention: Retention,
    ) -> Result<Entry, Error> {
        if self.epoch.is_empty() {
            let uuid = ids::random_uuid()?;
            self.epoch = uuid
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(12)
                .collect();
        }
        self.last += 1;
        let entry = Entry {
            offset: self.last,
            time_ms: now_ms,
            binary,
            data,
        };
        self.entries.push_back(entry.clone());
        self.trim(now_ms, retention);
        Ok(entry)
    }

    /// Drops what the retention no longer keeps.
    pub(crate) fn trim(&mut self, now_ms: u64, retention: Retention) {
        while self.entries.len() > retention.size {
            self.entries.pop_front();
        }
        while self
            .entries
            .front()
            .is_some_and(|entry| !retention.keeps(entry.time_ms, now_ms))
        {
            self.entries.pop_front();
        }
    }

    /// The publications after `since`, oldest first; `None` when they
    /// cannot all be given (another epoch, trimmed, or a position from the
    /// future).
    pub(crate) fn after(&self, since: &Position) -> Option<Vec<&Entry>> {
        if since.epoch != self.epoch || since.offset > self.last {
            return None;
        }
        let missed: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|entry| entry.offset > since.offset)
            .collect();
        let complete = self.last - since.offset == missed.len() as u64;
        complete.then_some(missed)
    }

    /// The newest kept publication.
    pub(crate) fn latest(&self) -> Option<&Entry> {
        self.entries.back()
    }

    /// `entry` as the frame a stream's socket gets.
    pub(crate) fn frame(&self, entry: &Entry) -> Frame {
        let (text, bytes) = if entry.binary {
            (None, Some(entry.data.clone()))
        } else {
            (
                Some(String::from_utf8_lossy(&entry.data).into_owned()),
                None,
            )
        };
        Frame::Publication {
            offset: entry.offset,
            epoch: self.epoch.clone(),
            time: entry.time_ms,
            text,
            bytes,
        }
    }

    /// The newest publication's message.
    pub(crate) fn latest_message(&self) -> Option<Result<Message, Error>> {
        self.latest().map(Entry::message)
    }
}

/// What a topic broker sends on a stream's socket, as JSON text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Frame {
    /// A publication and its position.
    Publication {
        /// Its offset in the topic.
        offset: u64,
        /// The topic's epoch.
        epoch: String,
        /// When it was published (ms since the epoch).
        time: u64,
        /// A text message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// A binary message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bytes: Option<Vec<u8>>,
    },
    /// Whether a subscription that named a position got everything after
    /// it (sent after the replay).
    Recovered {
        /// `false`: the client should refetch its state.
        recovered: bool,
    },
}

impl Frame {
    /// The publication this frame carries, if it is one.
    pub(crate) fn publication(self) -> Option<Publication> {
        let Frame::Publication {
            offset,
            epoch,
            time,
            text,
            bytes,
        } = self
        else {
            return None;
        };
        let message = match (text, bytes) {
            (Some(text), _) => Message::from(text),
            (None, Some(bytes)) => Message::from(bytes),
            (None, None) => return None,
        };
        Some(Publication {
            position: Position::new(offset, epoch),
            message,
            time_ms: time,
            // Publications reach the broker by POST, never from one of its
            // streams, so no stream skips its own.
            publisher: None,
        })
    }
}
