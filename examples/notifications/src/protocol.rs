//! What travels on the WebSocket.

use serde::{Deserialize, Serialize};

use crate::Notification;

/// What a connection sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ClientMessage {
    /// `{"type":"mark-read","id":ID}`: every tab of the user hears of it.
    MarkRead {
        /// The notification's id.
        id: String,
    },
}

/// What a connection receives.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage<'a> {
    /// A notification: live (`missed: false`) or, on connect, one sent
    /// while the user was offline (`missed: true`).
    Notification {
        /// The notification.
        notification: &'a Notification,
        /// Whether it was stored while no connection of the user got it.
        missed: bool,
    },
    /// `{"type":"read","id":ID}`: the user marked it read, in some tab.
    Read {
        /// The notification's id.
        id: &'a str,
    },
    /// `{"type":"error","error":…}`: a message that could not be handled.
    Error {
        /// What went wrong.
        error: String,
    },
}
