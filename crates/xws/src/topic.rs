//! Topic names: rooms, channels, per-user topics.

use serde::{Deserialize, Serialize};
use std::{borrow::Borrow, fmt, sync::Arc};

use crate::Error;

/// A validated topic name such as `room:lobby` or `user:42`.
///
/// Names are 1 to [`Topic::MAX_LEN`] bytes of printable text; the limit is
/// the Cloudflare WebSocket tag limit so a topic is portable everywhere.
///
/// ```
/// use xws::Topic;
/// assert!(Topic::new("room:lobby").is_ok());
/// assert!(Topic::new("").is_err());
/// assert!(Topic::new("bad\nname").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Topic(Arc<str>);

impl Topic {
    /// The longest topic name, in bytes.
    pub const MAX_LEN: usize = 256;

    /// Validates and creates a topic.
    pub fn new(name: impl AsRef<str>) -> Result<Self, Error> {
        let name = name.as_ref();
        let invalid = |reason| Error::InvalidTopic {
            topic: name.chars().take(64).collect(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("empty"));
        }
        if name.len() > Self::MAX_LEN {
            return Err(invalid("longer than 256 bytes"));
        }
        if name.chars().any(char::is_control) {
            return Err(invalid("contains control characters"));
        }
        Ok(Self(name.into()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Topic {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Topic::new(s)
    }
}

impl TryFrom<&str> for Topic {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        Topic::new(s)
    }
}

impl From<Topic> for String {
    fn from(t: Topic) -> Self {
        t.0.to_string()
    }
}

impl Borrow<str> for Topic {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Topic {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limit_is_inclusive() {
        assert!(Topic::new("a".repeat(256)).is_ok());
        assert!(Topic::new("a".repeat(257)).is_err());
    }

    #[test]
    fn deserialization_validates() {
        assert!(serde_json::from_str::<Topic>("\"\"").is_err());
        let t: Topic = serde_json::from_str("\"room:1\"").unwrap();
        assert_eq!(t.as_str(), "room:1");
    }
}
