//! Stream positions: where a subscriber is in a topic's history.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

use crate::Error;

/// A place in a topic's stream: the `offset` of a publication (1 for the
/// first, then one more per publication) and the stream's `epoch`.
///
/// The epoch changes whenever the stream's history is lost or reset (a
/// store restarted empty, the stream expired), so offsets are comparable
/// only within one epoch: a client whose epoch differs from the stream's
/// missed an unknown number of publications.
///
/// Its text form (an SSE event id) is `offset:epoch`.
///
/// ```
/// use xws::stream::Position;
/// let position: Position = "12:e3f1".parse().unwrap();
/// assert_eq!(position, Position::new(12, "e3f1"));
/// assert_eq!(position.to_string(), "12:e3f1");
/// assert!("12".parse::<Position>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Position {
    /// The offset of the last publication covered; 0 before the first one.
    pub offset: u64,
    /// The stream's epoch.
    pub epoch: String,
}

impl Position {
    /// The position `offset` in `epoch`.
    pub fn new(offset: u64, epoch: impl Into<String>) -> Self {
        Self {
            offset,
            epoch: epoch.into(),
        }
    }

    /// Whether `other` is in the same epoch.
    pub fn same_epoch(&self, other: &Position) -> bool {
        self.epoch == other.epoch
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.offset, self.epoch)
    }
}

impl FromStr for Position {
    type Err = Error;

    /// Parses `offset:epoch`, as sent back in `Last-Event-ID`.
    fn from_str(text: &str) -> Result<Self, Error> {
        let bad = |reason| Error::malformed("stream position", reason);
        let (offset, epoch) = text
            .split_once(':')
            .ok_or_else(|| bad("expected offset:epoch"))?;
        let offset = offset
            .parse()
            .map_err(|_| bad("the offset is not a number"))?;
        if epoch.is_empty() || epoch.len() > 64 || epoch.chars().any(char::is_control) {
            return Err(bad(
                "the epoch is empty, too long or has control characters",
            ));
        }
        Ok(Self::new(offset, epoch))
    }
}
