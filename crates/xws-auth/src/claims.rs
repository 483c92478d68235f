//! What a token says ([`Claims`]) and what a peer keeps of it ([`Identity`]).

use serde::{Deserialize, Serialize};

use crate::{TopicForbidden, TopicPatterns};

/// The claims xws reads from a token. Other claims are ignored.
///
/// `sub` and `exp` are required; `topics` is optional (see
/// [`TopicPatterns`]); `aud` and `iss` are checked when the
/// [`Verifier`](crate::Verifier) is told what to expect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The subject: the user id.
    pub sub: String,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// The audience: one string or a list (checked by the verifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    /// The issuer (checked by the verifier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Topic patterns the holder may use, such as `["room:*", "user:{sub}"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics: Option<Vec<String>>,
}

impl Claims {
    /// Claims for `sub`, expiring at `exp` (seconds since the Unix epoch),
    /// issued now.
    pub fn new(sub: impl Into<String>, exp: u64) -> Self {
        Self {
            sub: sub.into(),
            exp,
            iat: Some(now_seconds()),
            aud: None,
            iss: None,
            topics: None,
        }
    }

    /// Limits the token to `topics` (patterns).
    pub fn with_topics<I>(mut self, topics: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.topics = Some(topics.into_iter().map(Into::into).collect());
        self
    }

    /// Sets the audience.
    pub fn with_audience(mut self, aud: impl Into<String>) -> Self {
        self.aud = Some(serde_json::Value::String(aud.into()));
        self
    }

    /// Sets the issuer.
    pub fn with_issuer(mut self, iss: impl Into<String>) -> Self {
        self.iss = Some(iss.into());
        self
    }
}

/// What a verified token leaves in a peer's context: who, which topics,
/// until when. It is small and serde, so it survives Cloudflare hibernation
/// and AWS invocations with the rest of the context.
///
/// ```
/// use xws_auth::{Identity, TopicPatterns};
///
/// let who = Identity::new("ada", TopicPatterns::parse(["user:{sub}"], "ada"), 2_000_000_000);
/// assert!(who.allows("user:ada"));
/// assert!(!who.allows("user:bob"));
/// assert!(!who.is_expired_at(1_999_999_999));
/// assert!(who.is_expired_at(2_000_000_000));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The user id (the token's `sub`).
    pub user: String,
    /// The topics the token allows.
    pub topics: TopicPatterns,
    /// When the token expires, in seconds since the Unix epoch.
    pub expires_at: u64,
}

impl Identity {
    /// An identity for `user`.
    pub fn new(user: impl Into<String>, topics: TopicPatterns, expires_at: u64) -> Self {
        Self {
            user: user.into(),
            topics,
            expires_at,
        }
    }

    /// Whether the token allows `topic`.
    pub fn allows(&self, topic: &str) -> bool {
        self.topics.allows(topic)
    }

    /// `Ok` if the token allows `topic`; the error says which topic was
    /// refused, for the client.
    pub fn authorize(&self, topic: &str) -> Result<(), TopicForbidden> {
        if self.allows(topic) {
            Ok(())
        } else {
            Err(TopicForbidden {
                topic: topic.to_owned(),
            })
        }
    }

    /// Whether the token has expired at `now` (seconds since the epoch).
    pub fn is_expired_at(&self, now: u64) -> bool {
        now >= self.expires_at
    }

    /// Whether the token has expired now.
    pub fn is_expired(&self) -> bool {
        self.is_expired_at(now_seconds())
    }

    /// How long until the token expires (zero once it has).
    pub fn remaining(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.expires_at.saturating_sub(now_seconds()))
    }
}

/// Seconds since the Unix epoch. `web-time` reads `Date.now()` on wasm32,
/// where `std::time::SystemTime::now` panics.
pub fn now_seconds() -> u64 {
    web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
