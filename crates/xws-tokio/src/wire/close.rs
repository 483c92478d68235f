//! Close codes: why the server fails a connection, and the client's close
//! frame read and checked (RFC 6455 §5.5.1, §7.4).

use bytes::{BufMut, Bytes, BytesMut};
use xws::{CloseCode, CloseFrame};

/// A client broke the protocol: the connection closes with `code`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (close {code})")]
pub(crate) struct ProtocolError {
    pub(crate) code: CloseCode,
    pub(crate) reason: &'static str,
}

impl ProtocolError {
    /// 1002: a frame that breaks RFC 6455.
    pub(crate) const fn protocol(reason: &'static str) -> Self {
        Self {
            code: CloseCode::PROTOCOL_ERROR,
            reason,
        }
    }

    /// 1007: text that is not UTF-8.
    pub(crate) const fn invalid_utf8() -> Self {
        Self {
            code: CloseCode::INVALID_PAYLOAD,
            reason: "text is not valid UTF-8",
        }
    }

    /// 1009: a message over `Limits::max_message_size`.
    pub(crate) const fn too_big() -> Self {
        Self {
            code: CloseCode::MESSAGE_TOO_BIG,
            reason: "message exceeds the size limit",
        }
    }

    /// The close frame the server answers with.
    pub(crate) fn close_frame(&self) -> CloseFrame {
        CloseFrame::new(self.code, self.reason)
    }
}

/// A close frame from the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientClose {
    /// What the `close` hook sees: 1005 when the client sent no code.
    pub(crate) frame: CloseFrame,
    /// Whether the client sent a code (the reply echoes it, RFC 6455 §5.5.1).
    pub(crate) has_code: bool,
}

/// Reads a close frame's payload: empty, or a code a peer may send and a
/// UTF-8 reason.
pub(crate) fn parse_close(payload: &[u8]) -> Result<ClientClose, ProtocolError> {
    match payload {
        [] => Ok(ClientClose {
            frame: CloseFrame::new(CloseCode::NO_STATUS, ""),
            has_code: false,
        }),
        [_] => Err(ProtocolError::protocol("a close payload of one byte")),
        [high, low, reason @ ..] => {
            let code = CloseCode::from(u16::from_be_bytes([*high, *low]));
            if !code.is_sendable() {
                return Err(ProtocolError::protocol("a close code no peer may send"));
            }
            let reason = std::str::from_utf8(reason).map_err(|_| ProtocolError::invalid_utf8())?;
            Ok(ClientClose {
                frame: CloseFrame::new(code, reason),
                has_code: true,
            })
        }
    }
}

/// A close frame's payload: the code and the reason, or nothing for 1005
/// (which no frame may carry).
pub(crate) fn close_payload(frame: &CloseFrame) -> Bytes {
    if frame.code == CloseCode::NO_STATUS {
        return Bytes::new();
    }
    let mut payload = BytesMut::with_capacity(2 + frame.reason.len());
    payload.put_u16(frame.code.as_u16());
    payload.put_slice(frame.reason.as_bytes());
    payload.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(payload: &[u8]) -> Result<u16, u16> {
        parse_close(payload)
            .map(|close| close.frame.code.as_u16())
            .map_err(|error| error.code.as_u16())
    }

    #[test]
    fn valid_codes_pass_and_the_rest_fail_with_1002() {
        for code in [1000, 1001, 1002, 1003, 1007, 1010, 1011, 1014, 3000, 4999] {
            assert_eq!(code_of(&u16::to_be_bytes(code)), Ok(code), "{code}");
        }
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000] {
            assert_eq!(code_of(&u16::to_be_bytes(code)), Err(1002), "{code}");
        }
        assert_eq!(code_of(&[]), Ok(1005));
        assert_eq!(code_of(&[3]), Err(1002));
    }

    #[test]
    fn a_reason_that_is_not_utf8_fails_with_1007() {
        assert_eq!(code_of(&[0x03, 0xe8, b'o', b'k']), Ok(1000));
        assert_eq!(code_of(&[0x03, 0xe8, 0xff]), Err(1007));
    }
}
