//! Which topics keep history and presence: rules by topic pattern.

use std::{fmt, time::Duration};

use crate::{Message, Topic};

use super::PresenceEvent;

/// How much history a topic keeps: at most `size` publications, none older
/// than `ttl`. Whichever bound is reached first trims.
///
/// ```
/// use std::time::Duration;
/// use xws::stream::Retention;
/// let retention = Retention::new(100, Duration::from_secs(300));
/// assert_eq!(retention.size, 100);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// The most publications kept (at least 1).
    pub size: usize,
    /// The oldest a kept publication may be.
    pub ttl: Duration,
}

impl Retention {
    /// Keeps the last `size` publications (at least 1) for at most `ttl`.
    pub fn new(size: usize, ttl: Duration) -> Self {
        Self {
            size: size.max(1),
            ttl,
        }
    }

    /// `ttl` in milliseconds, saturating.
    pub fn ttl_ms(&self) -> u64 {
        u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether a publication made at `time_ms` is still kept at `now_ms`.
    pub fn keeps(&self, time_ms: u64, now_ms: u64) -> bool {
        now_ms.saturating_sub(time_ms) <= self.ttl_ms()
    }
}

/// Turns a join or leave into the message subscribers who asked for such
/// events receive. The default, [`PresenceEvent::to_message`], is JSON
/// `{"type":"join"|"leave","topic":…,"id":…,"info":…}`.
pub type PresenceFormat = fn(&PresenceEvent) -> Message;

/// What xws keeps for the topics a rule matches.
#[derive(Clone, Copy)]
pub struct TopicPolicy {
    /// History kept for the topic; `None` keeps none (and publications get
    /// no position).
    pub history: Option<Retention>,
    /// Whether `subscribe_with` adds the subscriber to the topic's presence.
    pub presence: bool,
    /// How join and leave events are worded.
    pub presence_format: PresenceFormat,
}

impl fmt::Debug for TopicPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopicPolicy")
            .field("history", &self.history)
            .field("presence", &self.presence)
            .finish_non_exhaustive()
    }
}

impl Default for TopicPolicy {
    fn default() -> Self {
        Self {
            history: None,
            presence: false,
            presence_format: PresenceEvent::to_message,
        }
    }
}

impl TopicPolicy {
    /// A policy keeping `retention` of history, without presence.
    pub fn history(retention: Retention) -> Self {
        Self {
            history: Some(retention),
            ..Self::default()
        }
    }

    /// A policy with presence and no history.
    pub fn presence() -> Self {
        Self {
            presence: true,
            ..Self::default()
        }
    }

    /// The same policy with presence.
    pub fn with_presence(mut self) -> Self {
        self.presence = true;
        self
    }

    /// The same policy, wording join and leave events with `format`.
    pub fn with_presence_format(mut self, format: PresenceFormat) -> Self {
        self.presence_format = format;
        self
    }
}

/// A topic pattern: an exact name, or a prefix ending in `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    Prefix(String),
}

impl Pattern {
    fn parse(pattern: &str) -> Self {
        match pattern.strip_suffix('*') {
            Some(prefix) => Pattern::Prefix(prefix.to_owned()),
            None => Pattern::Exact(pattern.to_owned()),
        }
    }

    fn matches(&self, topic: &str) -> bool {
        match self {
            Pattern::Exact(name) => name == topic,
            Pattern::Prefix(prefix) => topic.starts_with(prefix.as_str()),
        }
    }
}

/// Which topics keep history and presence, by pattern: the first rule
/// whose pattern matches a topic decides. Topics no rule matches keep
/// nothing, as without streams.
///
/// ```
/// use std::time::Duration;
/// use xws::stream::{Retention, StreamConfig, TopicPolicy};
/// let config = StreamConfig::new()
///     .rule("room:*", TopicPolicy::history(Retention::new(100, Duration::from_secs(300))).with_presence())
///     .rule("news", TopicPolicy::history(Retention::new(1, Duration::from_secs(3600))));
/// assert_eq!(config.retention("room:lobby").unwrap().size, 100);
/// assert!(config.presence("room:lobby"));
/// assert!(config.retention("newsletter").is_none());
/// ```
#[derive(Clone, Debug, Default)]
pub struct StreamConfig {
    rules: Vec<(Pattern, TopicPolicy)>,
}

impl StreamConfig {
    /// No rules: nothing kept.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rule: topics matching `pattern` (an exact name, or a prefix
    /// followed by `*`) follow `policy`, unless an earlier rule matched.
    pub fn rule(mut self, pattern: &str, policy: TopicPolicy) -> Self {
        self.rules.push((Pattern::parse(pattern), policy));
        self
    }

    /// The policy of `topic`, if a rule matches it.
    pub fn policy(&self, topic: &str) -> Option<&TopicPolicy> {
        self.rules
            .iter()
            .find(|(pattern, _)| pattern.matches(topic))
            .map(|(_, policy)| policy)
    }

    /// The history `topic` keeps, if any.
    pub fn retention(&self, topic: &str) -> Option<Retention> {
        self.policy(topic).and_then(|policy| policy.history)
    }

    /// Whether `topic` keeps presence.
    pub fn presence(&self, topic: &str) -> bool {
        self.policy(topic).is_some_and(|policy| policy.presence)
    }

    /// The join/leave wording of `topic`.
    pub fn presence_format(&self, topic: &Topic) -> PresenceFormat {
        self.policy(topic.as_str())
            .map_or(PresenceEvent::to_message as PresenceFormat, |policy| {
                policy.presence_format
            })
    }

    /// Whether any rule exists.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_rule_wins() {
        let config = StreamConfig::new()
            .rule("room:vip", TopicPolicy::presence())
            .rule(
                "room:*",
                TopicPolicy::history(Retention::new(5, Duration::from_secs(1))),
            );
        assert!(config.retention("room:vip").is_none());
        assert!(config.presence("room:vip"));
        assert_eq!(config.retention("room:other").unwrap().size, 5);
        assert!(config.policy("roomx").is_none());
        assert!(config.policy("room").is_none());
    }

    #[test]
    fn retention_keeps_up_to_its_ttl_inclusive() {
        let retention = Retention::new(0, Duration::from_millis(100));
        assert_eq!(retention.size, 1);
        assert!(retention.keeps(1_000, 1_100));
        assert!(!retention.keeps(1_000, 1_101));
        // A clock that went backwards keeps the publication.
        assert!(retention.keeps(2_000, 1_000));
    }
}
