//! What the client tells the app.

use bytes::Bytes;
use std::time::Duration;

/// One thing that happened, in order.
#[derive(Debug)]
pub enum Event<T> {
    /// Connected; `reconnected` after the first time. The
    /// [`on_open`](crate::ClientConfig::on_open) messages and then the
    /// queue have been handed to the socket.
    Open {
        /// Whether this is a reconnect.
        reconnected: bool,
    },
    /// A text message decoded as `T`.
    Message(T),
    /// A text message that is not a `T`, as it came.
    Text(String),
    /// A binary message.
    Binary(Bytes),
    /// An open connection ended.
    Close(CloseInfo),
    /// The next attempt comes after `delay`.
    Reconnecting {
        /// Failed attempts in a row so far, from 1.
        attempt: u32,
        /// Time until the next attempt.
        delay: Duration,
    },
    /// Something went wrong that does not end the client (a failed
    /// attempt), or the reason it gave up.
    Error(String),
}

/// How a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseInfo {
    /// The close code (1006 when the connection just dropped).
    pub code: u16,
    /// The reason given, or what the client saw.
    pub reason: String,
    /// Whether the client will try again.
    pub will_reconnect: bool,
}
