//! How a connection ended, and what that means on the wire.

use std::io;
use xws::{CloseCode, CloseFrame};

use super::socket::ReadError;
use crate::{wire::ClientClose, write_deadline::is_stalled};

/// Why the connection loop stopped.
#[derive(Debug)]
pub(crate) enum Ending {
    /// We close (handler, limit, shutdown, protocol error): queued frames
    /// are delivered first, then this close frame.
    Close(CloseFrame),
    /// The client sent a close frame; the server answers it.
    ClosedByClient(ClientClose),
    /// The transport is gone: no close handshake is possible.
    Dropped,
    /// A write made no progress for `Config::write_timeout`: the client
    /// does not read, so no close frame can reach it either.
    Stalled,
}

impl Ending {
    /// Maps a read error to the close RFC 6455 asks for.
    pub(crate) fn from_read_error(error: ReadError) -> Self {
        match error {
            ReadError::Protocol(error) => {
                tracing::debug!(%error, "WebSocket protocol error");
                if error.code == CloseCode::MESSAGE_TOO_BIG {
                    // The decoder's size limit acts before the session's.
                    xws::metrics::dropped(xws::metrics::DropReason::Oversize, 1);
                }
                Ending::Close(error.close_frame())
            }
            ReadError::Io(error) => Self::from_write_error(&error),
            ReadError::Eof => Ending::Dropped,
        }
    }

    /// What a failed write means: a stalled reader, or a gone transport.
    pub(crate) fn from_write_error(error: &io::Error) -> Self {
        if is_stalled(error) {
            Ending::Stalled
        } else {
            Ending::Dropped
        }
    }

    /// The frame the handler's `close` hook receives.
    pub(crate) fn frame(&self) -> CloseFrame {
        match self {
            Ending::Close(frame) => frame.clone(),
            Ending::ClosedByClient(close) => close.frame.clone(),
            Ending::Dropped => CloseFrame::new(CloseCode::ABNORMAL, "connection dropped"),
            Ending::Stalled => CloseFrame::new(
                CloseCode::TRY_AGAIN_LATER,
                "write stalled: the client is not reading",
            ),
        }
    }
}
