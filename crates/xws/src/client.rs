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

use crate::{CloseCode, CloseFrame, Message};

/// What a client sends to learn that the connection is alive.
pub const APP_PING: &str = r#"{"xws":"ping"}"#;

/// The server's answer to [`APP_PING`]; clients drop it before the app sees it.
pub const APP_PONG: &str = r#"{"xws":"pong"}"#;

/// The `xws` value of a close notice ([`close_notice`]).
const CLOSE_NOTICE_KIND: &str = "close";

/// A close frame as a text message, for platforms that cannot send a close
/// frame with a code: API Gateway's `DeleteConnection` closes the socket
/// with a code of its own. The adapter sends this notice, then closes;
/// `xws.js` and `xws-client` report the notice's code and reason as the
/// close. The text is `{"xws":"close","code":N,"reason":"..."}`.
///
/// ```
/// use xws::{CloseCode, CloseFrame, client};
/// let notice = client::close_notice(&CloseFrame::new(CloseCode::POLICY_VIOLATION, "rate limit exceeded"));
/// assert_eq!(notice.text().unwrap(), r#"{"xws":"close","code":1008,"reason":"rate limit exceeded"}"#);
/// assert_eq!(client::parse_close_notice(notice.text().unwrap()).unwrap().code, CloseCode::POLICY_VIOLATION);
/// ```
pub fn close_notice(frame: &CloseFrame) -> Message {
    let notice = Notice {
        xws: CLOSE_NOTICE_KIND,
        code: u16::from(frame.code),
        reason: frame.reason.as_str().into(),
    };
    // Serializing three plain fields cannot fail.
    Message::from(serde_json::to_string(&notice).unwrap_or_default())
}

/// A close notice on the wire; fields in this order, so the text starts
/// with `{"xws":"close"`.
#[derive(serde::Serialize, serde::Deserialize)]
struct Notice<'a> {
    xws: &'a str,
    code: u16,
    #[serde(default, borrow)]
    reason: std::borrow::Cow<'a, str>,
}

/// The close frame a [`close_notice`] carries; `None` for any other text.
pub fn parse_close_notice(text: &str) -> Option<CloseFrame> {
    // Cheap test first: ordinary messages are not parsed twice.
    if !text.starts_with(r#"{"xws":"close""#) {
        return None;
    }
    let notice: Notice<'_> = serde_json::from_str(text).ok()?;
    (notice.xws == CLOSE_NOTICE_KIND)
        .then(|| CloseFrame::new(CloseCode::from(notice.code), notice.reason))
}

/// What every binary notice starts with; the data follows.
const BINARY_NOTICE_PREFIX: &str = r#"{"xws":"binary","data":""#;
/// What every binary notice ends with.
const BINARY_NOTICE_SUFFIX: &str = r#""}"#;

/// A binary message as a text message, for platforms that refuse binary
/// frames: API Gateway closes a connection that sends one with 1003. The
/// text is `{"xws":"binary","data":"<base64>"}`. Where the adapter sets
/// [`SessionConfig::binary_as_text`](crate::adapter::SessionConfig), the
/// session turns an incoming notice back into the binary message before the
/// handler sees it, and the adapter sends the handler's binary messages as
/// notices; `xws.js` (option `binaryAsText`) and `xws-client` do the same on
/// their side, so neither the handler nor the page deals with base64.
///
/// ```
/// use xws::{Message, client};
/// let notice = client::binary_notice(&[0, 159, 255]);
/// assert_eq!(notice.text().unwrap(), r#"{"xws":"binary","data":"AJ//"}"#);
/// assert_eq!(client::parse_binary_notice(notice.text().unwrap()), Some(vec![0, 159, 255]));
/// assert_eq!(notice.len(), client::binary_notice_len(3));
/// ```
pub fn binary_notice(bytes: &[u8]) -> Message {
    use base64::Engine as _;
    let mut text = String::with_capacity(binary_notice_len(bytes.len()));
    text.push_str(BINARY_NOTICE_PREFIX);
    base64::engine::general_purpose::STANDARD.encode_string(bytes, &mut text);
    text.push_str(BINARY_NOTICE_SUFFIX);
    Message::from(text)
}

/// The length in bytes of the [`binary_notice`] of `len` bytes, to check it
/// against a platform's limit before encoding.
pub const fn binary_notice_len(len: usize) -> usize {
    BINARY_NOTICE_PREFIX.len() + len.div_ceil(3) * 4 + BINARY_NOTICE_SUFFIX.len()
}

/// The bytes a [`binary_notice`] carries; `None` for any other text.
pub fn parse_binary_notice(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    // The exact shape binary_notice writes: no JSON parse on the hot path.
    let data = text
        .strip_prefix(BINARY_NOTICE_PREFIX)?
        .strip_suffix(BINARY_NOTICE_SUFFIX)?;
    base64::engine::general_purpose::STANDARD.decode(data).ok()
}

/// `message` with a [`binary_notice`] turned back into the binary message it
/// carries; any other message as it is.
pub fn binary_from_notice(message: Message) -> Message {
    match &message {
        Message::Text(text) => match parse_binary_notice(text.as_str()) {
            Some(bytes) => Message::from(bytes),
            None => message,
        },
        Message::Binary(_) => message,
    }
}

/// `message` as it travels where binary frames are refused: a binary
/// message becomes its [`binary_notice`], text stays as it is.
pub fn binary_to_notice(message: &Message) -> Message {
    match message {
        Message::Binary(bytes) => binary_notice(bytes),
        Message::Text(_) => message.clone(),
    }
}

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
        assert!(
            JS.contains(r#"'{"xws":"close"'"#),
            "xws.js must recognise close notices"
        );
    }

    #[test]
    fn binary_notices_round_trip_and_nothing_else_parses() {
        for bytes in [&b""[..], b"\x00", b"\xff\xfe", b"abc", &[7; 1000]] {
            let notice = binary_notice(bytes);
            assert_eq!(notice.len(), binary_notice_len(bytes.len()));
            assert_eq!(
                binary_from_notice(notice.clone()),
                Message::from(bytes.to_vec())
            );
            assert_eq!(binary_to_notice(&Message::from(bytes.to_vec())), notice);
        }
        for text in [
            APP_PONG,
            r#"{"xws":"binary","data":"not base64!"}"#,
            r#"{"xws":"binary", "data":"AA=="}"#,
            r#"{"type":"binary","data":"AA=="}"#,
        ] {
            assert_eq!(parse_binary_notice(text), None, "{text}");
            assert_eq!(binary_from_notice(Message::from(text)), Message::from(text));
        }
        assert!(
            JS.contains(BINARY_NOTICE_PREFIX),
            "xws.js must speak binary notices"
        );
    }

    #[test]
    fn close_notices_round_trip_and_nothing_else_parses() {
        let frame = CloseFrame::new(CloseCode::INTERNAL_ERROR, "internal \"error\"");
        let notice = close_notice(&frame);
        assert_eq!(parse_close_notice(notice.text().unwrap()), Some(frame));
        assert_eq!(parse_close_notice(APP_PONG), None);
        assert_eq!(parse_close_notice(r#"{"xws":"close"}"#), None);
        assert_eq!(parse_close_notice(r#"{"type":"close","code":1000}"#), None);
    }
}
