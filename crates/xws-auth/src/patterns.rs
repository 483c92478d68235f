//! Topic patterns: which topics a token lets its holder use.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One topic pattern, such as `room:lobby`, `room:*` or `user:{sub}`.
///
/// `*` matches any run of characters (including none, and including `:`);
/// everything else matches itself. `{sub}` is replaced by the token's
/// subject when the claims are verified, and the subject is matched
/// literally: a subject `*` never becomes a wildcard.
///
/// ```
/// use xws_auth::TopicPattern;
///
/// let rooms = TopicPattern::parse("room:*", "ada");
/// assert!(rooms.matches("room:lobby"));
/// assert!(!rooms.matches("user:ada"));
///
/// let own = TopicPattern::parse("user:{sub}", "ada");
/// assert!(own.matches("user:ada"));
/// assert!(!own.matches("user:bob"));
///
/// // A subject is text, never a pattern.
/// assert!(!TopicPattern::parse("user:{sub}", "*").matches("user:bob"));
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicPattern {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Part {
    /// Text that must appear as is.
    #[serde(rename = "t")]
    Text(String),
    /// `*`: any run of characters.
    #[serde(rename = "*")]
    Any,
}

/// The placeholder replaced by the token's subject.
pub const SUBJECT_PLACEHOLDER: &str = "{sub}";

impl TopicPattern {
    /// Parses `pattern`, putting `subject` (as literal text) where
    /// [`SUBJECT_PLACEHOLDER`] appears.
    pub fn parse(pattern: &str, subject: &str) -> Self {
        let mut parts = Vec::new();
        for (i, piece) in pattern.split(SUBJECT_PLACEHOLDER).enumerate() {
            if i > 0 {
                push_text(&mut parts, subject);
            }
            for (j, text) in piece.split('*').enumerate() {
                if j > 0 && parts.last() != Some(&Part::Any) {
                    parts.push(Part::Any);
                }
                push_text(&mut parts, text);
            }
        }
        Self { parts }
    }

    /// Whether `topic` matches this pattern.
    pub fn matches(&self, topic: &str) -> bool {
        matches_parts(&self.parts, topic)
    }
}

fn push_text(parts: &mut Vec<Part>, text: &str) {
    if text.is_empty() {
        return;
    }
    match parts.last_mut() {
        Some(Part::Text(last)) => last.push_str(text),
        _ => parts.push(Part::Text(text.to_owned())),
    }
}

/// Glob matching with `*` only; greedy with backtracking to the last star,
/// linear in practice for the short topics xws allows (256 bytes).
fn matches_parts(parts: &[Part], topic: &str) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return topic.is_empty();
    };
    match first {
        Part::Text(text) => topic
            .strip_prefix(text.as_str())
            .is_some_and(|remaining| matches_parts(rest, remaining)),
        Part::Any => {
            if rest.is_empty() {
                return true;
            }
            topic
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(topic.len()))
                .any(|i| matches_parts(rest, &topic[i..]))
        }
    }
}

impl fmt::Display for TopicPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Text(text) => f.write_str(text)?,
                Part::Any => f.write_str("*")?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for TopicPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TopicPattern({self})")
    }
}

/// The topics a token allows: a list of [`TopicPattern`]s, or every topic.
///
/// A token without a `topics` claim allows what the verifier's default
/// patterns allow ([`crate::Verifier::default_topics`]; every topic unless
/// set). A token with `"topics": []` allows none.
///
/// ```
/// use xws_auth::TopicPatterns;
///
/// let allowed = TopicPatterns::parse(["room:lobby", "user:{sub}"], "ada");
/// assert!(allowed.allows("room:lobby"));
/// assert!(allowed.allows("user:ada"));
/// assert!(!allowed.allows("room:staff"));
/// assert!(TopicPatterns::All.allows("anything"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopicPatterns {
    /// Every topic.
    #[default]
    All,
    /// Only topics matching one of these.
    Only(Vec<TopicPattern>),
}

impl TopicPatterns {
    /// Parses every pattern of `patterns` for `subject`.
    pub fn parse<I>(patterns: I, subject: &str) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        Self::Only(
            patterns
                .into_iter()
                .map(|p| TopicPattern::parse(p.as_ref(), subject))
                .collect(),
        )
    }

    /// Whether `topic` is allowed.
    pub fn allows(&self, topic: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(patterns) => patterns.iter().any(|p| p.matches(topic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, topic: &str) -> bool {
        TopicPattern::parse(pattern, "ada").matches(topic)
    }

    #[test]
    fn literal_patterns_match_exactly() {
        assert!(m("room:lobby", "room:lobby"));
        assert!(!m("room:lobby", "room:lobby2"));
        assert!(!m("room:lobby", "room:lob"));
        assert!(!m("room:lobby", ""));
    }

    #[test]
    fn stars_match_any_run_of_characters() {
        assert!(m("room:*", "room:"));
        assert!(m("room:*", "room:a:b"));
        assert!(!m("room:*", "rooms:a"));
        assert!(m("*", ""));
        assert!(m("*:lobby", "room:lobby"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("a**b", "ab"));
        assert!(m("é*", "éàü"));
    }

    #[test]
    fn the_subject_is_substituted_literally() {
        assert!(m("user:{sub}", "user:ada"));
        assert!(!m("user:{sub}", "user:adam"));
        assert!(m("user:{sub}:*", "user:ada:inbox"));
        let star = TopicPattern::parse("user:{sub}", "*");
        assert!(star.matches("user:*"));
        assert!(!star.matches("user:bob"));
    }

    #[test]
    fn an_empty_list_allows_nothing() {
        let none = TopicPatterns::parse(Vec::<String>::new(), "ada");
        assert!(!none.allows("room:lobby"));
    }

    #[test]
    fn patterns_survive_serde_and_display() {
        let patterns = TopicPatterns::parse(["room:*", "user:{sub}"], "ada");
        let json = serde_json::to_string(&patterns).unwrap();
        assert_eq!(
            serde_json::from_str::<TopicPatterns>(&json).unwrap(),
            patterns
        );
        let TopicPatterns::Only(list) = patterns else {
            panic!("expected a list")
        };
        assert_eq!(list[1].to_string(), "user:ada");
    }
}
