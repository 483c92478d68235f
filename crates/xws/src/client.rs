//! What every xws client and server agree on: the app-level heartbeat and the
//! browser client itself.
//!
//! Browsers answer protocol pings but cannot send them, so a page cannot tell
//! a dead connection (a sleeping laptop, a proxy that dropped the socket
//! silently) from a quiet one. xws clients therefore send the text message
//! [`APP_PING`] now and then and expect some message back within a timeout.
//! Every adapter answers [`APP_PONG`] without calling the handler: the
//! session does on Tokio and AWS, and on Cloudflare the runtime's
//! WebSocket auto-response does, without waking a hibernated object.
//!
//! Both are JSON objects with an `xws` key, which no ordinary application
//! message uses; only the exact bytes of [`APP_PING`] are recognised, so the
//! check costs one length comparison on the hot path.

use crate::Message;

/// What a client sends to learn that the connection is alive.
pub const APP_PING: &str = r#"{"xws":"ping"}"#;

/// The server's answer to [`APP_PING`]; clients drop it before the app sees it.
pub const APP_PONG: &str = r#"{"xws":"pong"}"#;

/// The browser client: one dependency-free ES module (`connect(url,
/// options)`) with reconnection, a bounded send queue, the app-level
/// heartbeat and the SSE + POST fallback. Its documentation is at the top of
/// the file. Every adapter serves this one copy.
pub const JS: &str = include_str!("../js/xws.js");

/// The `Content-Type` to serve [`JS`] with.
pub const JS_CONTENT_TYPE: &str = "text/javascript; charset=utf-8";

/// Whether `message` is exactly [`APP_PING`].
///
/// ```
/// use xws::{Message, client};
/// assert!(client::is_app_ping(&Message::from(client::APP_PING)));
/// assert!(!client::is_app_ping(&Message::from(r#"{"xws": "ping"}"#)));
/// ```
pub fn is_app_ping(message: &Message) -> bool {
    matches!(message, Message::Text(text) if text.as_str() == APP_PING)
}

/// [`APP_PONG`] as a message, sharing static bytes.
pub fn app_pong() -> Message {
    Message::Text(APP_PONG.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_text_ping_is_recognised() {
        assert!(is_app_ping(&Message::from(APP_PING)));
        assert!(!is_app_ping(&Message::from(APP_PING.as_bytes().to_vec())));
        assert!(!is_app_ping(&Message::from(APP_PONG)));
        assert_eq!(app_pong().text().unwrap(), APP_PONG);
    }

    #[test]
    fn the_browser_client_uses_the_same_text() {
        assert!(JS.contains(APP_PING), "xws.js must send APP_PING");
        assert!(JS.contains(APP_PONG), "xws.js must drop APP_PONG");
    }
}
