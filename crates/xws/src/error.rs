//! The error type shared by the core and the adapters.

use crate::{CloseCode, CloseFrame};

/// Any error a handler hook may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in xws.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A message exceeded the configured or platform limit.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// Size of the rejected message.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A text payload was asked of a binary message.
    #[error("expected a text message, got binary")]
    NotText,
    /// A payload was not valid UTF-8 where text was required.
    #[error("payload is not valid UTF-8")]
    InvalidUtf8,
    /// JSON could not be decoded or encoded.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A topic name was empty, too long or held control characters.
    #[error("invalid topic {topic:?}: {reason}")]
    InvalidTopic {
        /// The rejected name.
        topic: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The handler's authorization refused a subscription.
    #[error("subscription to topic {0:?} was refused")]
    SubscribeRefused(String),
    /// [`Handler::authorize_publish`](crate::Handler::authorize_publish)
    /// refused to let this peer publish to the topic.
    #[error("publication to topic {0:?} was refused")]
    PublishRefused(String),
    /// The peer is closed or closing; nothing more can be sent to it.
    #[error("peer is closed")]
    PeerClosed,
    /// The peer is subscribed to as many topics as
    /// [`Limits::max_topics_per_peer`](crate::Limits::max_topics_per_peer) allows.
    #[error("subscribed to {limit} topics already, the most a peer may")]
    TooManyTopics {
        /// The limit in force.
        limit: usize,
    },
    /// The peer's outgoing queue is full (a slow reader).
    #[error("outgoing queue of the peer is full")]
    QueueFull,
    /// The peer sent messages faster than its rate limit allows.
    #[error("rate limit exceeded")]
    RateLimited,
    /// The peer's serialized state is over what the platform can store.
    #[error("peer state of {size} bytes exceeds the platform limit of {limit} bytes")]
    StateTooLarge {
        /// Serialized size.
        size: usize,
        /// The platform's limit.
        limit: usize,
    },
    /// The deployment target cannot do what was asked.
    #[error("{capability} is not supported on {target}: {alternative}")]
    Unsupported {
        /// The target that was asked.
        target: &'static str,
        /// The missing capability.
        capability: &'static str,
        /// What to use instead.
        alternative: &'static str,
    },
    /// An encoded envelope, attachment or event could not be decoded.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// The adapter's transport failed (network, platform API).
    #[error("transport error: {0}")]
    Transport(BoxError),
    /// A handler hook returned an error.
    #[error("handler error: {0}")]
    Handler(BoxError),
    /// A handler hook panicked.
    #[error("handler panicked: {0}")]
    Panic(String),
}

impl Error {
    /// The close code an adapter sends when this error ends a connection.
    ///
    /// ```
    /// use xws::{CloseCode, Error};
    /// assert_eq!(Error::RateLimited.close_code(), CloseCode::POLICY_VIOLATION);
    /// ```
    pub fn close_code(&self) -> CloseCode {
        match self {
            Error::MessageTooLarge { .. } => CloseCode::MESSAGE_TOO_BIG,
            Error::InvalidUtf8 => CloseCode::INVALID_PAYLOAD,
            Error::RateLimited
            | Error::SubscribeRefused(_)
            | Error::PublishRefused(_)
            | Error::TooManyTopics { .. } => CloseCode::POLICY_VIOLATION,
            Error::QueueFull => CloseCode::TRY_AGAIN_LATER,
            _ => CloseCode::INTERNAL_ERROR,
        }
    }

    /// The close frame an adapter sends when this error ends a connection:
    /// [`Error::close_code`] with a short reason that names no internals.
    /// Every adapter uses it, so a client sees the same frame everywhere.
    ///
    /// ```
    /// use xws::{CloseCode, Error};
    /// let frame = Error::RateLimited.close_frame();
    /// assert_eq!((frame.code, frame.reason.as_str()), (CloseCode::POLICY_VIOLATION, "rate limit exceeded"));
    /// ```
    pub fn close_frame(&self) -> CloseFrame {
        let reason = match self {
            Error::MessageTooLarge { .. } => "message too large",
            Error::InvalidUtf8 => "invalid UTF-8",
            Error::RateLimited => "rate limit exceeded",
            Error::SubscribeRefused(_) => "subscription refused",
            Error::PublishRefused(_) => "publication refused",
            Error::QueueFull => "send queue full",
            Error::StateTooLarge { .. } => "peer state too large",
            _ => "internal error",
        };
        CloseFrame::new(self.close_code(), reason)
    }

    /// Wraps a transport-level failure.
    pub fn transport(err: impl Into<BoxError>) -> Self {
        Error::Transport(err.into())
    }

    /// A decoding failure of untrusted input.
    pub fn malformed(what: &'static str, reason: impl ToString) -> Self {
        Error::Malformed {
            what,
            reason: reason.to_string(),
        }
    }
}
