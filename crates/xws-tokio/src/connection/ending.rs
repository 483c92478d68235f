//! How a connection ended, and what that means on the wire.

use tokio_tungstenite::tungstenite::{self, error::ProtocolError};
use xws::{CloseCode, CloseFrame};

use crate::write_deadline::is_stalled;

/// Why the connection loop stopped.
#[derive(Debug)]
pub(crate) enum Ending {
    /// We close (handler, limit, shutdown, protocol error): queued frames
    /// are delivered first, then this close frame.
    Close(CloseFrame),
    /// The client sent a close frame; tungstenite answers it.
    ClosedByClient(CloseFrame),
    /// The transport is gone: no close handshake is possible.
    Dropped,
    /// A write made no progress for `Config::write_timeout`: the client
    /// does not read, so no close frame can reach it either.
    Stalled,
}

impl Ending {
    /// Maps a tungstenite read error to the close code RFC 6455 asks for.
    pub(crate) fn from_error(error: tungstenite::Error) -> Self {
        use tungstenite::Error as E;
        match error {
            E::Capacity(_) => {
                // tungstenite's size limit acts before the session's.
                xws::metrics::dropped(xws::metrics::DropReason::Oversize, 1);
                Ending::Close(CloseFrame::new(
                    CloseCode::MESSAGE_TOO_BIG,
                    "message exceeds the size limit",
                ))
            }
            E::Utf8(_) => Ending::Close(CloseFrame::new(
                CloseCode::INVALID_PAYLOAD,
                "text message is not valid UTF-8",
            )),
            E::Protocol(ProtocolError::ResetWithoutClosingHandshake) => Ending::Dropped,
            // Reading writes too (the answers to pings).
            E::Io(error) if is_stalled(&error) => Ending::Stalled,
            E::Protocol(error) => {
                tracing::debug!(%error, "WebSocket protocol error");
                Ending::Close(CloseFrame::new(CloseCode::PROTOCOL_ERROR, "protocol error"))
            }
            _ => Ending::Dropped,
        }
    }

    /// What a failed write means: a stalled reader, or a gone transport.
    pub(crate) fn from_write_error(error: &tungstenite::Error) -> Self {
        match error {
            tungstenite::Error::Io(error) if is_stalled(error) => Ending::Stalled,
            _ => Ending::Dropped,
        }
    }

    /// The frame the handler's `close` hook receives.
    pub(crate) fn frame(&self) -> CloseFrame {
        match self {
            Ending::Close(frame) | Ending::ClosedByClient(frame) => frame.clone(),
            Ending::Dropped => CloseFrame::new(CloseCode::ABNORMAL, "connection dropped"),
            Ending::Stalled => CloseFrame::new(
                CloseCode::TRY_AGAIN_LATER,
                "write stalled: the client is not reading",
            ),
        }
    }
}

/// Our close frame in tungstenite's terms.
pub(crate) fn to_tungstenite(frame: &CloseFrame) -> tungstenite::protocol::CloseFrame {
    tungstenite::protocol::CloseFrame {
        code: frame.code.as_u16().into(),
        reason: frame.reason.clone().into(),
    }
}

/// The client's close frame in our terms (1005 when it sent no code).
pub(crate) fn from_tungstenite(frame: Option<tungstenite::protocol::CloseFrame>) -> CloseFrame {
    match frame {
        Some(frame) => CloseFrame::new(u16::from(frame.code).into(), frame.reason.as_str()),
        None => CloseFrame::new(CloseCode::NO_STATUS, ""),
    }
}
