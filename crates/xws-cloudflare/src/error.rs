//! What the Workers runtime can refuse, as typed errors. They reach the app
//! inside [`xws::Error::Transport`] (its `source()`), since the runtime's
//! own error values are JavaScript objects that cannot cross threads.

/// A failure of a Workers runtime API the adapter calls.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// `crypto.randomUUID()` is missing or failed (peer ids come from it).
    #[error("crypto.randomUUID() is unavailable")]
    NoRandomUuid,
    /// The runtime refused to store a socket's attachment.
    #[error("the runtime refused the socket attachment: {0}")]
    Attachment(String),
    /// The runtime reported a hibernatable socket as failed.
    #[error("the socket failed: {0}")]
    Socket(String),
    /// A request to a Durable Object's stub failed before an answer.
    #[error("the request to the Durable Object failed: {0}")]
    Stub(String),
    /// The Durable Object answered a hub command with an error status.
    #[error("the Durable Object answered {op} with HTTP {status}: {body}")]
    HubRefused {
        /// The hub operation (`publish`, `broadcast`, `send_to`, `peers`).
        op: &'static str,
        /// The HTTP status it answered.
        status: u16,
        /// Its body, which says why.
        body: String,
    },
    /// The Durable Object's storage refused a stream operation.
    #[error("Durable Object storage: {0}")]
    Storage(String),
    /// The object accepted an SSE stream without handing over its socket.
    #[error("the Durable Object sent no socket for the SSE stream")]
    NoStreamSocket,
}

impl From<RuntimeError> for xws::Error {
    fn from(error: RuntimeError) -> Self {
        xws::Error::transport(error)
    }
}

/// Turns an xws error into the runtime's error type, which can only carry
/// text: the `fetch` and `websocket_*` events must return `worker::Result`.
pub(crate) fn to_worker(error: xws::Error) -> worker::Error {
    worker::Error::RustError(error.to_string())
}
