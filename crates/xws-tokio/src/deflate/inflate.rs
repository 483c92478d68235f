//! Inflates compressed messages under tungstenite, which refuses RSV1:
//! for the load clients of `xws-bench` (the server decodes with
//! [`crate::wire`], which inflates with the same [`inflate_message`]).
//!
//! [`Inflating`] reads the client's frames as they pass: frames without
//! RSV1 (and control frames, wherever they arrive) go through unchanged; a
//! compressed message (RSV1 on its first frame, then its continuations) is
//! gathered, inflated and handed on as one plain frame, masked with a zero
//! key since tungstenite requires clients' frames masked. tungstenite then
//! checks that frame like any other (UTF-8, sizes, order). What it must
//! refuse is turned into a frame it refuses the same way: a message that
//! inflates past the size limit into a header over the limit (1009), a
//! misplaced RSV1 or data that does not inflate into a frame with RSV2 set
//! (1002).

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::wire::inflate::{Inflated, inflate_message};

/// Buffers that grew past this are given back once empty, so an idle
/// connection keeps nothing after a large message.
const KEEP_CAPACITY: usize = 16 * 1024;
const FIN: u8 = 0x80;
const RSV1: u8 = 0x40;
const RSV2: u8 = 0x20;
const MASKED: u8 = 0x80;

/// Which end reads through [`Inflating`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A server: it reads masked frames, from the first byte.
    Server,
    /// A client (the bench's load generator): it reads unmasked frames,
    /// after the HTTP response to its upgrade.
    Client,
}

/// Where the reader stands in the peer's byte stream.
#[derive(Debug)]
enum State {
    /// In the HTTP response (a client's): how much of its blank line
    /// ending was seen.
    Handshake(usize),
    /// At the start of a frame.
    Header,
    /// Inside a frame that goes through unchanged: the bytes left.
    PassThrough(u64),
    /// Inside a frame of a compressed message: the bytes left, the frame's
    /// mask and how far into it the payload is.
    Compressed { left: u64, mask: [u8; 4], at: usize },
    /// An error frame was handed on: tungstenite reads no further.
    Failed,
}

/// A compressed message being gathered.
#[derive(Debug)]
struct Gathering {
    opcode: u8,
    payload: Vec<u8>,
    last_frame: bool,
}

/// `io`, whose compressed messages reach the reader inflated. Writes pass
/// through; so does everything when `enabled` is false.
#[derive(Debug)]
pub struct Inflating<T> {
    io: T,
    side: Side,
    enabled: bool,
    max_message_size: usize,
    /// Bytes read and not yet looked at, from `input_at`.
    input: Vec<u8>,
    input_at: usize,
    /// Bytes for the reader, from `output_at`.
    output: Vec<u8>,
    output_at: usize,
    state: State,
    message: Option<Gathering>,
}

impl<T> Inflating<T> {
    /// Inflates what `side` reads from `io` when `enabled` (negotiated),
    /// refusing messages that inflate past `max_message_size`.
    pub fn new(io: T, side: Side, enabled: bool, max_message_size: usize) -> Self {
        Self {
            io,
            side,
            enabled,
            max_message_size,
            input: Vec::new(),
            input_at: 0,
            output: Vec::new(),
            output_at: 0,
            state: match side {
                Side::Server => State::Header,
                Side::Client => State::Handshake(0),
            },
            message: None,
        }
    }

    /// The frame mask bit this side reads and writes.
    fn masked(&self) -> u8 {
        match self.side {
            Side::Server => MASKED,
            Side::Client => 0,
        }
    }

    /// Moves what it can from `input` to `output`.
    fn process(&mut self) {
        loop {
            let available = &self.input[self.input_at..];
            match &mut self.state {
                State::Failed => return,
                State::Handshake(matched) => {
                    let Some(&byte) = available.first() else {
                        return;
                    };
                    *matched = match (byte, *matched) {
                        (b'\r', 0 | 2) => *matched + 1,
                        (b'\n', 1 | 3) => *matched + 1,
                        (b'\r', _) => 1,
                        _ => 0,
                    };
                    if *matched == 4 {
                        self.state = State::Header;
                    }
                    self.output.push(byte);
                    self.input_at += 1;
                }
                State::Header => {
                    let Some((header_len, payload_len)) = header_size(available) else {
                        return;
                    };
                    if available.len() < header_len {
                        return;
                    }
                    let mut header = [0; 14];
                    header[..header_len].copy_from_slice(&available[..header_len]);
                    self.state = self.start_frame(&header[..header_len], payload_len);
                    if !matches!(self.state, State::Failed) {
                        if let State::PassThrough(_) = self.state {
                            let header = &self.input[self.input_at..self.input_at + header_len];
                            self.output.extend_from_slice(header);
                        }
                        self.input_at += header_len;
                    }
                }
                State::PassThrough(left) => {
                    let n = (*left).min(available.len() as u64) as usize;
                    *left -= n as u64;
                    let done = *left == 0;
                    self.output.extend_from_slice(&available[..n]);
                    self.input_at += n;
                    if done {
                        self.state = State::Header;
                    } else if n == 0 {
                        return;
                    }
                }
                State::Compressed { left, mask, at } => {
                    let n = (*left).min(available.len() as u64) as usize;
                    *left -= n as u64;
                    let done = *left == 0;
                    let message = self.message.as_mut().expect("gathering a message");
                    message.payload.extend(
                        available[..n]
                            .iter()
                            .enumerate()
                            .map(|(i, byte)| byte ^ mask[(*at + i) % 4]),
                    );
                    *at += n;
                    self.input_at += n;
                    if done {
                        self.state = State::Header;
                        if message.last_frame {
                            let message = self.message.take().expect("gathering a message");
                            self.inflate(message);
                        }
                    } else if n == 0 {
                        return;
                    }
                }
            }
        }
    }

    /// What follows the frame `header`: gathering, passing it through, or
    /// the error frame handed on for it.
    fn start_frame(&mut self, header: &[u8], payload_len: u64) -> State {
        let (first, second) = (header[0], header[1]);
        let opcode = first & 0x0f;
        let compressed = first & RSV1 != 0;
        let masked = second & MASKED == self.masked();
        let mask: [u8; 4] = if second & MASKED != 0 {
            header[header.len() - 4..]
                .try_into()
                .expect("four mask bytes")
        } else {
            [0; 4]
        };
        let gathered = self.message.as_ref().map_or(0, |m| m.payload.len() as u64);
        let (starts_message, continues) = (opcode == 1 || opcode == 2, opcode == 0);
        if self.message.is_some() && (starts_message || (continues && compressed)) {
            // A new message inside a fragmented one, or RSV1 on a
            // continuation (RFC 7692 §6.1: only the first frame has it).
            return self.fail(protocol_error(self.masked()));
        }
        let gathers =
            (starts_message && compressed && masked) || (continues && self.message.is_some());
        if !gathers {
            // Control frames, plain messages, and what tungstenite refuses
            // by itself (RSV1 on a control frame, a frame masked wrong).
            return State::PassThrough(payload_len);
        }
        if gathered.saturating_add(payload_len) > self.max_message_size as u64 {
            return self.fail(oversize(self.max_message_size, self.masked()));
        }
        let last_frame = first & FIN != 0;
        match &mut self.message {
            Some(message) => message.last_frame = last_frame,
            None => {
                self.message = Some(Gathering {
                    opcode,
                    payload: Vec::with_capacity(payload_len.min(KEEP_CAPACITY as u64) as usize),
                    last_frame,
                });
            }
        }
        State::Compressed {
            left: payload_len,
            mask,
            at: 0,
        }
    }

    /// Inflates a whole message into one plain frame for tungstenite.
    fn inflate(&mut self, message: Gathering) {
        let limit = self.max_message_size;
        let inflated = inflate_message(message.payload, limit);
        match inflated {
            Inflated::Plain(payload) => {
                let masked = self.masked();
                write_header(
                    &mut self.output,
                    FIN | message.opcode,
                    masked,
                    payload.len() as u64,
                );
                self.output.extend_from_slice(&payload);
            }
            Inflated::TooLarge => {
                self.fail(oversize(limit, self.masked()));
            }
            Inflated::Corrupt => {
                tracing::debug!("a compressed message does not inflate");
                self.fail(protocol_error(self.masked()));
            }
        }
    }

    /// Hands `frame` to tungstenite, which fails the connection on it.
    fn fail(&mut self, frame: Vec<u8>) -> State {
        self.output.extend_from_slice(&frame);
        self.message = None;
        self.state = State::Failed;
        State::Failed
    }

    /// Gives back the buffers' memory once they are consumed.
    fn compact(&mut self) {
        if self.output_at == self.output.len() {
            self.output_at = 0;
            if self.output.capacity() > KEEP_CAPACITY {
                self.output = Vec::new();
            } else {
                self.output.clear();
            }
        }
        self.input.drain(..self.input_at);
        self.input_at = 0;
        if self.input.is_empty() && self.input.capacity() > KEEP_CAPACITY {
            self.input = Vec::new();
        }
    }
}

/// The header's full length and the payload's, once enough of the header
/// is known to tell.
fn header_size(seen: &[u8]) -> Option<(usize, u64)> {
    let [_, second, rest @ ..] = seen else {
        return None;
    };
    let mask = if second & 0x80 != 0 { 4 } else { 0 };
    match second & 0x7f {
        126 => {
            let len = rest.get(..2)?;
            Some((4 + mask, u64::from(u16::from_be_bytes([len[0], len[1]]))))
        }
        127 => {
            let len: [u8; 8] = rest.get(..8)?.try_into().ok()?;
            Some((10 + mask, u64::from_be_bytes(len)))
        }
        short => Some((2 + mask, u64::from(short))),
    }
}

/// A frame header; `masked` (a client's frame) with a zero key, so the
/// payload is as is.
fn write_header(output: &mut Vec<u8>, first: u8, masked: u8, len: u64) {
    output.push(first);
    match len {
        0..=125 => output.push(masked | len as u8),
        126..=0xffff => {
            output.push(masked | 126);
            output.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            output.push(masked | 127);
            output.extend_from_slice(&len.to_be_bytes());
        }
    }
    if masked != 0 {
        output.extend_from_slice(&[0; 4]);
    }
}

/// A binary frame header announcing one byte over `limit`: tungstenite
/// refuses it before any payload (close 1009).
fn oversize(limit: usize, masked: u8) -> Vec<u8> {
    let mut frame = Vec::new();
    write_header(&mut frame, FIN | 0x2, masked, limit as u64 + 1);
    frame
}

/// An empty frame with RSV2 set: tungstenite refuses it (close 1002).
fn protocol_error(masked: u8) -> Vec<u8> {
    let mut frame = Vec::new();
    write_header(&mut frame, FIN | RSV2 | 0x2, masked, 0);
    frame
}

impl<T: AsyncRead + Unpin> AsyncRead for Inflating<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.enabled {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        loop {
            if this.output_at < this.output.len() {
                let n = buf.remaining().min(this.output.len() - this.output_at);
                buf.put_slice(&this.output[this.output_at..this.output_at + n]);
                this.output_at += n;
                this.compact();
                return Poll::Ready(Ok(()));
            }
            if matches!(this.state, State::Failed) {
                return Poll::Ready(Ok(()));
            }
            // Read into the caller's buffer, then take the bytes back: no
            // buffer of ours to zero.
            let filled = buf.filled().len();
            match Pin::new(&mut this.io).poll_read(cx, buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Ready(Ok(())) => {}
            }
            let read = &buf.filled()[filled..];
            if read.is_empty() {
                return Poll::Ready(Ok(()));
            }
            this.input.extend_from_slice(read);
            buf.set_filled(filled);
            this.process();
            this.compact();
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Inflating<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame.
    fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1, 2, 3, 4];
        let mut out = Vec::new();
        write_header(&mut out, first, MASKED, payload.len() as u64);
        let at = out.len() - 4;
        out[at..].copy_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    fn run(bytes: &[u8]) -> Inflating<()> {
        let mut inflating = Inflating::new((), Side::Server, true, 1000);
        // One byte at a time: headers and payloads split across reads.
        for byte in bytes {
            inflating.input.push(*byte);
            inflating.process();
        }
        inflating
    }

    #[test]
    fn a_fragmented_compressed_message_becomes_one_plain_frame_and_pings_pass() {
        let compressed = super::super::compress(&[b'x'; 300], 15).unwrap();
        let (a, b) = compressed.split_at(compressed.len() / 2);
        let mut bytes = frame(RSV1 | 0x1, a);
        bytes.extend(frame(FIN | 0x9, b"ping"));
        bytes.extend(frame(FIN, b));
        bytes.extend(frame(FIN | 0x2, b"plain"));
        let inflating = run(&bytes);
        let mut expected = frame(FIN | 0x9, b"ping");
        write_header(&mut expected, FIN | 0x1, MASKED, 300);
        expected.extend_from_slice(&[b'x'; 300]);
        expected.extend(frame(FIN | 0x2, b"plain"));
        assert_eq!(inflating.output, expected);
    }

    #[test]
    fn a_bomb_fails_with_an_oversize_header_and_rsv1_on_a_continuation_with_rsv2() {
        let bomb = super::super::compress(&[0; 5000], 15).unwrap();
        let inflating = run(&frame(FIN | RSV1 | 0x2, &bomb));
        assert_eq!(inflating.output, oversize(1000, MASKED));
        let compressed = super::super::compress(&[b'x'; 300], 15).unwrap();
        let mut bytes = frame(RSV1 | 0x1, &compressed);
        bytes.extend(frame(FIN | RSV1, b""));
        assert_eq!(run(&bytes).output, protocol_error(MASKED));
        assert_eq!(
            run(&frame(FIN | RSV1 | 0x1, b"not deflate at all")).output,
            protocol_error(MASKED)
        );
    }

    #[test]
    fn a_client_passes_the_http_response_then_inflates_unmasked_frames() {
        let compressed = super::super::compress(&[b'y'; 200], 15).unwrap();
        let head = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n";
        let mut bytes = head.to_vec();
        let mut frame = Vec::new();
        write_header(&mut frame, FIN | RSV1 | 0x2, 0, compressed.len() as u64);
        frame.extend_from_slice(&compressed);
        bytes.extend(frame);
        let mut inflating = Inflating::new((), Side::Client, true, 1000);
        inflating.input = bytes;
        inflating.process();
        let mut expected = head.to_vec();
        write_header(&mut expected, FIN | 0x2, 0, 200);
        expected.extend_from_slice(&[b'y'; 200]);
        assert_eq!(inflating.output, expected);
    }
}
