//! The app-level heartbeat convention shared by every xws client.
//!
//! Browsers answer protocol pings but cannot send them, so a page cannot
//! tell a dead connection (a sleeping laptop, a proxy that dropped the
//! socket silently) from a quiet one. xws clients therefore send the text
//! message [`APP_PING`] now and then and expect some message back within a
//! timeout. When [`Config::answer_app_ping`](crate::Config::answer_app_ping)
//! is on (the default), the connection answers [`APP_PONG`] itself, without
//! calling the handler, over WebSocket and over the SSE + POST fallback
//! alike. Clients drop the pong before the app sees it.
//!
//! The messages are JSON objects with an `xws` key, which no ordinary
//! application message uses; only the exact bytes of [`APP_PING`] are
//! recognised, so checking costs one length comparison on the hot path.

use xws::Message;

/// What a client sends to learn that the connection is alive.
pub const APP_PING: &str = r#"{"xws":"ping"}"#;

/// The server's answer to [`APP_PING`].
pub const APP_PONG: &str = r#"{"xws":"pong"}"#;

/// Whether `message` is exactly [`APP_PING`].
pub(crate) fn is_ping(message: &Message) -> bool {
    matches!(message, Message::Text(text) if text.as_str() == APP_PING)
}

/// The answer, sharing static bytes.
pub(crate) fn pong() -> Message {
    Message::Text(APP_PONG.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_ping_is_recognised() {
        assert!(is_ping(&Message::from(APP_PING)));
        assert!(!is_ping(&Message::from(r#"{"xws": "ping"}"#)));
        assert!(!is_ping(&Message::from(APP_PING.as_bytes().to_vec())));
        assert_eq!(pong().text().unwrap(), APP_PONG);
    }
}
