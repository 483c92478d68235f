//! The server's side of the WebSocket protocol (RFC 6455), sans IO, in the
//! style of tungstenite's core: bytes in, events out; frames in, bytes out.
//!
//! Written for xws-tokio instead of running tokio-tungstenite on the
//! server, for memory: tungstenite keeps a read buffer (4 KiB here) for a
//! connection's whole life, which was most of an idle connection's heap.
//! Here the connection reads into one buffer per thread, borrowed for a
//! single poll, and the [`Decoder`] keeps state only for what is
//! incomplete; an idle connection holds no buffer. Outgoing frames are
//! [`ServerFrame`]s, a shared payload whose header is built at write time
//! on the stack, so the connection can write a batch as one vectored
//! write.
//!
//! - [`header`]: parsing client frame headers and encoding server ones;
//! - [`decoder`]: frames into messages, pings and closes, with every check
//!   RFC 6455 asks of a server (and RFC 7692's RSV1);
//! - [`inflate`]: permessage-deflate messages inflated, within the limit;
//! - [`utf8`]: text checked fragment by fragment, failing fast;
//! - [`close`]: protocol errors and their close codes, close payloads;
//! - [`encoder`]: the server's frames.

pub(crate) mod close;
pub(crate) mod decoder;
pub(crate) mod encoder;
pub(crate) mod header;
pub(crate) mod inflate;
mod mask;
mod utf8;

pub(crate) use close::{ClientClose, ProtocolError};
pub(crate) use decoder::{Decoded, Decoder, Incoming};
pub(crate) use encoder::ServerFrame;
