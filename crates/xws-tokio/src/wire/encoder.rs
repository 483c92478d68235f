//! The server's frames: unmasked, never fragmented, the payload a shared
//! `Bytes` (a publication is one allocation for every subscriber) and the
//! header built at write time on the stack.

use bytes::Bytes;
use xws::{CloseFrame, Message};

use super::{
    close::close_payload,
    header::{EncodedHeader, FIN, OpCode, RSV1},
};

/// One frame the server sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServerFrame {
    /// FIN, RSV1 and the opcode: the header's first byte.
    first: u8,
    payload: Bytes,
}

impl ServerFrame {
    fn new(opcode: OpCode, payload: Bytes) -> Self {
        Self {
            first: FIN | opcode.bits(),
            payload,
        }
    }

    /// `message` as it is, sharing its payload.
    pub(crate) fn message(message: &Message) -> Self {
        match message {
            Message::Text(text) => Self::new(OpCode::Text, text.as_bytes().clone()),
            Message::Binary(bytes) => Self::new(OpCode::Binary, bytes.clone()),
        }
    }

    /// A permessage-deflate message: `payload` is `message` compressed.
    pub(crate) fn compressed(message: &Message, payload: Bytes) -> Self {
        let mut frame = Self::message(message);
        frame.first |= RSV1;
        frame.payload = payload;
        frame
    }

    pub(crate) fn ping(payload: Bytes) -> Self {
        Self::new(OpCode::Ping, payload)
    }

    pub(crate) fn pong(payload: Bytes) -> Self {
        Self::new(OpCode::Pong, payload)
    }

    pub(crate) fn close(frame: &CloseFrame) -> Self {
        Self::new(OpCode::Close, close_payload(frame))
    }

    pub(crate) fn header(&self) -> EncodedHeader {
        EncodedHeader::new(self.first, self.payload.len())
    }

    pub(crate) fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// Whether RSV1 (compressed) is set.
    #[cfg(test)]
    pub(crate) fn is_compressed(&self) -> bool {
        self.first & RSV1 != 0
    }

    /// Payload bytes, what a peer's queue budget counts.
    pub(crate) fn len(&self) -> usize {
        self.payload.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_use_the_shortest_length_and_no_mask() {
        let frame = |len| ServerFrame::message(&Message::from(vec![0u8; len])).header();
        assert_eq!(frame(0).as_bytes(), [0x82, 0]);
        assert_eq!(frame(125).as_bytes(), [0x82, 125]);
        assert_eq!(frame(126).as_bytes(), [0x82, 126, 0, 126]);
        assert_eq!(frame(65_535).as_bytes(), [0x82, 126, 0xff, 0xff]);
        assert_eq!(
            frame(65_536).as_bytes(),
            [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]
        );
        let text = ServerFrame::message(&Message::from("hi"));
        assert_eq!(text.header().as_bytes(), [0x81, 2]);
        let compressed = ServerFrame::compressed(&Message::from("hi"), Bytes::from_static(b"x"));
        assert_eq!(compressed.header().as_bytes(), [0xc1, 1]);
    }
}
