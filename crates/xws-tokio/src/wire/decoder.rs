//! Client frames in, events out: the server's side of RFC 6455, sans IO.
//!
//! The connection hands the decoder whatever one read produced and gets
//! events back one at a time. Between reads the decoder keeps only what is
//! incomplete: a few header bytes (inline), the payload of a control frame
//! or of a message still arriving (allocated only then). An idle
//! connection's decoder holds no buffer.

use bytes::Bytes;
use std::mem::take;
use xws::{Message, Text};

use super::{
    close::{ClientClose, ProtocolError, parse_close},
    header::{self, FrameHeader, MAX_CLIENT_HEADER, OpCode},
    inflate::{Inflated, inflate_message},
    mask::append_unmasked,
    utf8::Utf8Progress,
};

/// Frames that are no message (continuations, control frames) the decoder
/// lets wait to be charged to the rate limit before it stops decoding: a
/// flood of them cannot outrun the limiter, however fast the client writes.
pub(crate) const PAUSE_AT: u32 = 64;
/// Payload room made ahead of the bytes that fill it: a header announcing
/// a large frame costs memory only as its payload arrives.
const RESERVE_AHEAD: u64 = 64 * 1024;

/// What a client's frames amount to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Incoming {
    Message(Message),
    /// To be answered with a pong carrying the same payload.
    Ping(Bytes),
    Pong,
    Close(ClientClose),
}

/// The outcome of one [`Decoder::decode`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    Incoming(Incoming),
    /// The input is used up in the middle of a frame or between frames.
    NeedMore,
    /// [`PAUSE_AT`] frames wait to be charged ([`Decoder::take_uncharged`]).
    ChargeFrames,
}

/// One client connection's decoding state.
#[derive(Debug)]
pub(crate) struct Decoder {
    /// permessage-deflate was negotiated: RSV1 marks compressed messages.
    compression: bool,
    max_message_size: usize,
    /// The start of a header split across reads.
    header_start: HeaderStart,
    /// The frame whose payload is arriving.
    frame: Option<FrameInProgress>,
    /// The data message being assembled (over one frame or several).
    message: Option<MessageInProgress>,
    /// The payload of the control frame arriving.
    control: Vec<u8>,
    /// Continuation and control frames not yet charged to the rate limit.
    uncharged: u32,
}

#[derive(Debug, Default)]
struct HeaderStart {
    bytes: [u8; MAX_CLIENT_HEADER],
    len: u8,
}

#[derive(Debug)]
struct FrameInProgress {
    header: FrameHeader,
    received: u64,
}

#[derive(Debug)]
struct MessageInProgress {
    text: bool,
    compressed: bool,
    payload: Vec<u8>,
    utf8: Utf8Progress,
}

impl Decoder {
    /// A decoder refusing messages over `max_message_size` (after
    /// inflation) and RSV1 unless `compression` was negotiated.
    pub(crate) fn new(compression: bool, max_message_size: usize) -> Self {
        Self {
            compression,
            max_message_size,
            header_start: HeaderStart::default(),
            frame: None,
            message: None,
            control: Vec::new(),
            uncharged: 0,
        }
    }

    /// The continuation and control frames decoded since the last call.
    pub(crate) fn take_uncharged(&mut self) -> u32 {
        take(&mut self.uncharged)
    }

    /// Whether the decoder is between frames with nothing kept: dropping
    /// it and starting a new one later loses nothing.
    pub(crate) fn is_at_rest(&self) -> bool {
        self.header_start.len == 0
            && self.frame.is_none()
            && self.message.is_none()
            && self.control.is_empty()
            && self.uncharged == 0
    }

    /// Decodes from the front of `input` up to the next event, leaving the
    /// rest in `input`.
    pub(crate) fn decode(&mut self, input: &mut &[u8]) -> Result<Decoded, ProtocolError> {
        loop {
            let Some(frame) = &mut self.frame else {
                if self.uncharged >= PAUSE_AT {
                    return Ok(Decoded::ChargeFrames);
                }
                match self.read_header(input)? {
                    Some(header) => self.start_frame(header)?,
                    None => return Ok(Decoded::NeedMore),
                }
                continue;
            };
            let header = frame.header;
            let offset = frame.received;
            let wanted = header.payload_len - offset;
            if wanted > 0 && input.is_empty() {
                return Ok(Decoded::NeedMore);
            }
            let (chunk, rest) = input.split_at(wanted.min(input.len() as u64) as usize);
            *input = rest;
            frame.received += chunk.len() as u64;
            let frame_complete = frame.received == header.payload_len;
            if header.opcode.is_control() {
                append_unmasked(&mut self.control, chunk, header.mask, offset);
            } else {
                let message = self.message.as_mut().expect("a data frame has its message");
                append_unmasked(&mut message.payload, chunk, header.mask, offset);
                // Fail fast: at the fragment (even the read) that holds the
                // invalid byte. A message that arrived whole in this chunk
                // (most do) is left to the one check `Text` makes.
                let message_complete = frame_complete && header.fin;
                let whole_here = message_complete && message.payload.len() == chunk.len();
                if message.text && !message.compressed && !whole_here {
                    message.utf8.check(&message.payload, message_complete)?;
                }
            }
            if !frame_complete {
                return Ok(Decoded::NeedMore);
            }
            self.frame = None;
            if let Some(incoming) = self.finish_frame(header)? {
                return Ok(Decoded::Incoming(incoming));
            }
        }
    }

    /// The next header, once all of it arrived (what arrived of it is kept).
    fn read_header(&mut self, input: &mut &[u8]) -> Result<Option<FrameHeader>, ProtocolError> {
        let start = &mut self.header_start;
        let had = usize::from(start.len);
        if had == 0 {
            if let Some((header, len)) = header::parse(input, self.compression)? {
                *input = &input[len..];
                return Ok(Some(header));
            }
            // Shorter than the longest header, or it would have parsed.
            start.bytes[..input.len()].copy_from_slice(input);
            start.len = input.len() as u8;
            *input = &[];
            return Ok(None);
        }
        let taken = (MAX_CLIENT_HEADER - had).min(input.len());
        start.bytes[had..had + taken].copy_from_slice(&input[..taken]);
        match header::parse(&start.bytes[..had + taken], self.compression)? {
            Some((header, len)) => {
                *input = &input[len - had..];
                start.len = 0;
                Ok(Some(header))
            }
            None => {
                *input = &input[taken..];
                start.len = (had + taken) as u8;
                Ok(None)
            }
        }
    }

    /// Checks a frame against the message in progress and makes room for
    /// its payload.
    fn start_frame(&mut self, header: FrameHeader) -> Result<(), ProtocolError> {
        let too_big = |len: u64| len > self.max_message_size as u64;
        match header.opcode {
            OpCode::Continuation => {
                let Some(message) = &mut self.message else {
                    return Err(ProtocolError::protocol("a continuation without a message"));
                };
                self.uncharged += 1;
                if too_big(message.payload.len() as u64 + header.payload_len) {
                    return Err(ProtocolError::too_big());
                }
                message
                    .payload
                    .reserve(header.payload_len.min(RESERVE_AHEAD) as usize);
            }
            OpCode::Text | OpCode::Binary => {
                if self.message.is_some() {
                    return Err(ProtocolError::protocol(
                        "a new message inside a fragmented one",
                    ));
                }
                if too_big(header.payload_len) {
                    return Err(ProtocolError::too_big());
                }
                self.message = Some(MessageInProgress {
                    text: header.opcode == OpCode::Text,
                    compressed: header.rsv1,
                    payload: Vec::with_capacity(header.payload_len.min(RESERVE_AHEAD) as usize),
                    utf8: Utf8Progress::default(),
                });
            }
            OpCode::Close | OpCode::Ping | OpCode::Pong => {
                self.uncharged += 1;
                self.control.reserve_exact(header.payload_len as usize);
            }
        }
        self.frame = Some(FrameInProgress {
            header,
            received: 0,
        });
        Ok(())
    }

    /// The event a complete frame makes, if any.
    fn finish_frame(&mut self, header: FrameHeader) -> Result<Option<Incoming>, ProtocolError> {
        let incoming = match header.opcode {
            OpCode::Ping => Incoming::Ping(Bytes::from(take(&mut self.control))),
            OpCode::Pong => {
                self.control = Vec::new();
                Incoming::Pong
            }
            OpCode::Close => Incoming::Close(parse_close(&take(&mut self.control))?),
            OpCode::Continuation | OpCode::Text | OpCode::Binary => {
                if !header.fin {
                    return Ok(None);
                }
                let message = self.message.take().expect("a data frame has its message");
                Incoming::Message(self.finish_message(message)?)
            }
        };
        Ok(Some(incoming))
    }

    fn finish_message(&self, message: MessageInProgress) -> Result<Message, ProtocolError> {
        let payload = if message.compressed {
            match inflate_message(message.payload, self.max_message_size) {
                Inflated::Plain(payload) => payload,
                Inflated::TooLarge => return Err(ProtocolError::too_big()),
                Inflated::Corrupt => {
                    return Err(ProtocolError::protocol("a message that does not inflate"));
                }
            }
        } else {
            message.payload
        };
        let payload = Bytes::from(payload);
        if !message.text {
            return Ok(Message::Binary(payload));
        }
        // Checked already unless compressed or whole in one read: this
        // check is what `Text` requires (then a second pass, at memory speed).
        let text = Text::from_utf8(payload).map_err(|_| ProtocolError::invalid_utf8())?;
        Ok(Message::Text(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::header::{FIN, RSV1};
    use xws::{CloseCode, CloseFrame};

    const LIMIT: usize = 1000;

    /// A client frame: `first` is FIN, RSV and opcode; masked unless told.
    fn frame_with(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mask_bit = if masked { 0x80 } else { 0 };
        let mut out = vec![first];
        match payload.len() {
            len @ 0..=125 => out.push(mask_bit | len as u8),
            len @ 126..=0xffff => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        if masked {
            out.extend_from_slice(&mask);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        } else {
            out.extend_from_slice(payload);
        }
        out
    }

    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        frame_with(first, payload, true)
    }

    /// Every event in `bytes` fed in one piece, then the error if any.
    fn events(decoder: &mut Decoder, bytes: &[u8]) -> Result<Vec<Incoming>, ProtocolError> {
        let mut input = bytes;
        let mut events = Vec::new();
        loop {
            match decoder.decode(&mut input)? {
                Decoded::Incoming(incoming) => events.push(incoming),
                Decoded::NeedMore => return Ok(events),
                Decoded::ChargeFrames => {
                    decoder.take_uncharged();
                }
            }
        }
    }

    fn decode_all(bytes: &[u8]) -> Result<Vec<Incoming>, ProtocolError> {
        events(&mut Decoder::new(false, LIMIT), bytes)
    }

    /// The close code `bytes` fail with.
    fn failure(bytes: &[u8]) -> u16 {
        failure_with(Decoder::new(false, LIMIT), bytes)
    }

    fn failure_with(mut decoder: Decoder, bytes: &[u8]) -> u16 {
        match events(&mut decoder, bytes) {
            Ok(events) => panic!("expected a failure, got {events:?}"),
            Err(error) => error.code.as_u16(),
        }
    }

    fn text(text: &str) -> Incoming {
        Incoming::Message(Message::from(text.to_owned()))
    }

    #[test]
    fn messages_pings_pongs_and_closes_in_one_read_or_byte_by_byte() {
        let mut bytes = frame(FIN | 0x1, b"hello");
        bytes.extend(frame(0x2, &[1, 2]));
        bytes.extend(frame(FIN | 0x9, b"are you there"));
        bytes.extend(frame(FIN | 0xA, b""));
        bytes.extend(frame(FIN, &[3; 300]));
        bytes.extend(frame(FIN | 0x1, &[b'x'; 70_000][..LIMIT - 1]));
        bytes.extend(frame(FIN | 0x8, &[0x03, 0xe8, b'b', b'y', b'e']));
        let mut binary = vec![1, 2];
        binary.extend([3; 300]);
        let expected = vec![
            text("hello"),
            Incoming::Ping(Bytes::from_static(b"are you there")),
            Incoming::Pong,
            Incoming::Message(Message::from(binary)),
            text(&"x".repeat(LIMIT - 1)),
            Incoming::Close(ClientClose {
                frame: CloseFrame::new(CloseCode::NORMAL, "bye"),
                has_code: true,
            }),
        ];
        assert_eq!(decode_all(&bytes).unwrap(), expected);
        let mut decoder = Decoder::new(false, LIMIT);
        let mut one_by_one = Vec::new();
        for byte in &bytes {
            one_by_one.extend(events(&mut decoder, std::slice::from_ref(byte)).unwrap());
        }
        assert_eq!(one_by_one, expected);
        // Nothing is held between frames once they are complete.
        assert!(decoder.message.is_none() && decoder.control.capacity() == 0);
    }

    #[test]
    fn frames_that_break_the_protocol_fail_with_1002() {
        assert_eq!(
            failure(&frame_with(FIN | 0x1, b"hi", false)),
            1002,
            "unmasked"
        );
        assert_eq!(failure(&frame(FIN | 0x20 | 0x1, b"hi")), 1002, "RSV2");
        assert_eq!(
            failure(&frame(FIN | RSV1 | 0x1, b"hi")),
            1002,
            "RSV1, no deflate"
        );
        for opcode in [0x3, 0x7, 0xB, 0xF] {
            assert_eq!(failure(&frame(FIN | opcode, b"")), 1002, "opcode {opcode}");
        }
        assert_eq!(failure(&frame(FIN | 0x9, &[0; 126])), 1002, "long ping");
        assert_eq!(failure(&frame(0x9, b"")), 1002, "fragmented ping");
        assert_eq!(failure(&frame(FIN, b"lost")), 1002, "continuation first");
        let mut bytes = frame(0x1, b"one");
        bytes.extend(frame(FIN | 0x1, b"two"));
        assert_eq!(failure(&bytes), 1002, "a message inside a message");
        let mut bytes = frame(FIN | 0x1, b"done");
        bytes.extend(frame(FIN, b"more"));
        assert_eq!(failure(&bytes), 1002, "a continuation after the end");
    }

    #[test]
    fn rsv1_is_for_the_first_frame_of_a_message_when_deflate_was_negotiated() {
        let deflating = || Decoder::new(true, LIMIT);
        let compressed = crate::deflate::compress(&[b'z'; 400], 15).unwrap();
        let mut bytes = frame(RSV1 | 0x1, &compressed[..3]);
        bytes.extend(frame(FIN | 0x9, b""));
        bytes.extend(frame(FIN, &compressed[3..]));
        assert_eq!(
            events(&mut deflating(), &bytes).unwrap(),
            vec![Incoming::Ping(Bytes::new()), text(&"z".repeat(400))]
        );
        let mut bytes = frame(RSV1 | 0x1, &compressed);
        bytes.extend(frame(FIN | RSV1, b""));
        assert_eq!(
            failure_with(deflating(), &bytes),
            1002,
            "RSV1 on a continuation"
        );
        assert_eq!(
            failure_with(deflating(), &frame(FIN | RSV1 | 0x9, b"")),
            1002
        );
        let garbage = frame(FIN | RSV1 | 0x2, b"not deflate at all");
        assert_eq!(failure_with(deflating(), &garbage), 1002);
    }

    #[test]
    fn messages_over_the_limit_fail_with_1009_even_compressed() {
        assert_eq!(failure(&frame(FIN | 0x2, &[0; LIMIT + 1])), 1009);
        let mut bytes = frame(0x2, &[0; LIMIT / 2]);
        bytes.extend(frame(FIN, &[0; LIMIT / 2 + 1]));
        assert_eq!(failure(&bytes), 1009, "fragmented");
        // A header alone is enough: no payload needs to arrive.
        let header = &frame(FIN | 0x2, &[0; 70_000])[..14];
        assert_eq!(failure(header), 1009);
        let bomb = crate::deflate::compress(&[0; 100 * LIMIT], 15).unwrap();
        assert!(bomb.len() < LIMIT);
        let bomb = frame(FIN | RSV1 | 0x2, &bomb);
        assert_eq!(failure_with(Decoder::new(true, LIMIT), &bomb), 1009);
    }

    /// Found by the `ws_decoder` fuzz target (fuzz/regressions/ws_decoder):
    /// with no size limit (`usize::MAX`), making room for one byte over the
    /// limit overflowed.
    #[test]
    fn compressed_messages_inflate_without_a_size_limit() {
        let compressed = crate::deflate::compress(&[b'z'; 400], 15).unwrap();
        let bytes = frame(FIN | RSV1 | 0x1, &compressed);
        assert_eq!(
            events(&mut Decoder::new(true, usize::MAX), &bytes).unwrap(),
            vec![text(&"z".repeat(400))]
        );
    }

    #[test]
    fn text_split_inside_a_code_point_passes_and_invalid_bytes_fail_at_their_fragment() {
        let euro = "€".as_bytes();
        let mut bytes = frame(0x1, &[b'a', euro[0]]);
        bytes.extend(frame(0x0, &euro[1..2]));
        bytes.extend(frame(FIN, &euro[2..]));
        assert_eq!(decode_all(&bytes).unwrap(), vec![text("a€")]);
        // The invalid fragment fails before the message ends: no final
        // frame follows here.
        let mut bytes = frame(0x1, b"fine so far");
        bytes.extend(frame(0x0, b"then \xff"));
        assert_eq!(failure(&bytes), 1007);
        // Within a single frame, at the read that holds the byte.
        let invalid = frame(FIN | 0x1, b"ab\xc0\xafcdefgh");
        assert_eq!(failure(&invalid[..invalid.len() - 4]), 1007);
        // Cut off at the message's end.
        assert_eq!(failure(&frame(FIN | 0x1, &euro[..2])), 1007);
    }

    #[test]
    fn close_payloads_are_checked() {
        assert_eq!(failure(&frame(FIN | 0x8, &[0x03])), 1002, "one byte");
        assert_eq!(failure(&frame(FIN | 0x8, &[0x03, 0xed])), 1002, "1005");
        assert_eq!(failure(&frame(FIN | 0x8, &[0x03, 0xe8, 0xff])), 1007);
        assert_eq!(
            decode_all(&frame(FIN | 0x8, b"")).unwrap(),
            vec![Incoming::Close(ClientClose {
                frame: CloseFrame::new(CloseCode::NO_STATUS, ""),
                has_code: false
            })]
        );
    }

    #[test]
    fn decoding_pauses_when_frames_wait_to_be_charged() {
        let mut bytes = frame(0x1, b"a");
        for _ in 0..100 {
            bytes.extend(frame(0x0, b""));
        }
        let mut decoder = Decoder::new(false, LIMIT);
        let mut input = &bytes[..];
        assert_eq!(decoder.decode(&mut input), Ok(Decoded::ChargeFrames));
        assert_eq!(decoder.take_uncharged(), PAUSE_AT);
        assert_eq!(decoder.decode(&mut input), Ok(Decoded::NeedMore));
        assert_eq!(decoder.take_uncharged(), 100 - PAUSE_AT);
    }
}
