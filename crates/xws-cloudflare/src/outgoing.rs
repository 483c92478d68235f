//! A message made a JavaScript value once, then written on any number of
//! sockets. `worker::WebSocket::send_with_str` copies its Rust string into
//! a new JavaScript string on every call, and `send_with_bytes` into a new
//! buffer: a fan-out to n sockets paid n conversions of the same message.

use wasm_bindgen::{JsCast as _, JsValue, prelude::wasm_bindgen};
use worker::{WebSocket, js_sys::Uint8Array, web_sys};
use xws::{Error, Message};

#[wasm_bindgen]
extern "C" {
    /// The runtime's WebSocket as far as sending goes: its `send` takes a
    /// string or a buffer value, which web-sys binds only for Rust data.
    type RuntimeSocket;

    #[wasm_bindgen(method, catch, js_name = send)]
    fn send(this: &RuntimeSocket, data: &JsValue) -> Result<(), JsValue>;
}

/// A message (or an SSE event) as the value its sockets are sent.
pub struct Outgoing(JsValue);

impl Outgoing {
    /// `message` as a text or binary frame.
    pub fn message(message: &Message) -> Self {
        match message {
            Message::Text(text) => Self::text(text.as_str()),
            // A buffer of its own, not a view of wasm memory, which Rust
            // may reuse before the runtime has sent it; the runtime never
            // writes to it, so every socket can send the same one.
            Message::Binary(bytes) => Self(Uint8Array::from(bytes.as_ref()).buffer().into()),
        }
    }

    /// A text frame.
    pub fn text(text: &str) -> Self {
        Self(JsValue::from_str(text))
    }

    /// An encoded SSE event, for a stream's socket: the Worker copies it
    /// into the response as it is (SSE events are UTF-8 text).
    pub fn event(event: &[u8]) -> Self {
        Self::text(&String::from_utf8_lossy(event))
    }

    /// Writes the value on `socket`; a closing socket fails.
    pub fn send(&self, socket: &WebSocket) -> Result<(), Error> {
        let socket: &web_sys::WebSocket = socket.as_ref();
        socket
            .unchecked_ref::<RuntimeSocket>()
            .send(&self.0)
            .map_err(|_| Error::PeerClosed)
    }
}
