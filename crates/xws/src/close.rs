//! WebSocket close codes (RFC 6455 §7.4 and the IANA registry) and frames.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A WebSocket close status code.
///
/// ```
/// use xws::CloseCode;
/// assert_eq!(CloseCode::MESSAGE_TOO_BIG.as_u16(), 1009);
/// assert!(CloseCode::from(4000).is_application());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the server is shutting down or the client navigated away.
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: a protocol error.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: no status code was present (never sent on the wire).
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: the connection dropped without a close frame (never sent on the wire).
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: a text message that is not valid UTF-8.
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a policy was violated (rate limit, authorization).
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message was larger than the configured limit.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1011: the server hit an unexpected condition (a handler error or panic).
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the server is restarting.
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: the server is overloaded; try again later (used for slow readers).
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 3000: unauthorized, as registered with IANA for authentication
    /// (xws-auth closes a peer whose token expired with it).
    pub const UNAUTHORIZED: Self = Self(3000);

    /// The numeric code.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Codes 4000-4999, reserved for applications.
    pub const fn is_application(self) -> bool {
        self.0 >= 4000 && self.0 <= 4999
    }

    /// Whether this code may be sent in a close frame (RFC 6455 §7.4.2).
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A close code with its reason.
///
/// The reason is cut to 123 bytes on a character boundary, the most a close
/// frame can carry.
///
/// ```
/// use xws::{CloseCode, CloseFrame};
/// let frame = CloseFrame::new(CloseCode::POLICY_VIOLATION, "é".repeat(100));
/// assert!(frame.reason.len() <= 123);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// A short, human-readable reason.
    pub reason: String,
}

impl CloseFrame {
    /// The longest reason a close frame can carry, in bytes.
    pub const MAX_REASON_BYTES: usize = 123;

    /// A close frame; `reason` is truncated to [`Self::MAX_REASON_BYTES`].
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        if reason.len() > Self::MAX_REASON_BYTES {
            let mut end = Self::MAX_REASON_BYTES;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        Self { code, reason }
    }

    /// A normal closure (1000) without reason.
    pub fn normal() -> Self {
        Self::new(CloseCode::NORMAL, "")
    }
}
