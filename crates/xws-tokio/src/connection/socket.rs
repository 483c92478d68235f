//! The connection's socket: the wire protocol over the upgraded stream.
//!
//! Memory first: 10,000 idle connections should cost little more than
//! their sockets. So nothing here holds a buffer while the connection is
//! idle:
//!
//! - Reads go into one 64 KiB buffer per thread, borrowed only inside one
//!   poll (never across an await). The decoder takes what it needs from it;
//!   bytes past the event it returns are copied aside until decoded, and
//!   only then is memory allocated.
//! - The decoder itself (with the bytes set aside) is made with the first
//!   bytes read, and given back when the connection is idle
//!   ([`Socket::release_idle_decoder`]): a connection that is silent holds
//!   no decoding state.
//! - Writes are corked: a batch of frames goes out as one vectored write
//!   (headers built on the stack, payloads as they are), one syscall per
//!   batch. Only what the socket does not take is kept, as shared `Bytes`,
//!   until it is written.

use bytes::{Buf, Bytes};
use smallvec::SmallVec;
use std::{
    cell::RefCell,
    collections::VecDeque,
    future::{Future, poll_fn},
    io::{self, IoSlice},
    mem::MaybeUninit,
    pin::Pin,
    task::{Context, Poll, ready},
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::{
    deflate,
    link::Frame,
    wire::{Decoded, Decoder, ProtocolError, ServerFrame, header::EncodedHeader},
};

/// The per-thread read buffer, the most one read takes.
const READ_BUFFER_SIZE: usize = 64 * 1024;
/// Reads per wakeup at most: then the task yields, so one fast sender
/// cannot hold a worker thread.
const READS_PER_POLL: usize = 4;
/// Frames per vectored write at most (a header and a payload slice each).
pub(crate) const WRITE_BATCH: usize = 64;

/// One vectored write's slices: a header and a payload per frame.
type IoSlices<'a> = SmallVec<[IoSlice<'a>; 2 * WRITE_BATCH]>;

thread_local! {
    static READ_BUFFER: RefCell<Box<[MaybeUninit<u8>]>> =
        RefCell::new(Box::new_uninit_slice(READ_BUFFER_SIZE));
}

/// Why reading stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("the client closed the connection")]
    Eof,
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// A WebSocket server connection over `io`.
pub(crate) struct Socket<T> {
    io: T,
    /// Decoding state, while the client is sending (see the module's notes).
    reading: Option<Box<Reading>>,
    /// permessage-deflate was negotiated (for the decoder).
    compression: bool,
    /// The largest message accepted (for the decoder).
    max_message_size: usize,
    /// What the socket did not take of earlier writes, in order; only
    /// while there is some.
    #[allow(
        clippy::box_collection,
        reason = "a pointer in every idle connection rather than an empty deque's 32 bytes"
    )]
    unsent: Option<Box<VecDeque<Bytes>>>,
}

/// What a socket keeps while the client is sending.
struct Reading {
    decoder: Decoder,
    /// Bytes read past the last event, until they are decoded.
    unread: Vec<u8>,
    unread_at: usize,
}

impl<T: AsyncRead + AsyncWrite + Unpin> Socket<T> {
    /// A socket refusing messages over `max_message_size` (after
    /// inflation) and compressed ones unless `compression` was negotiated.
    pub(crate) fn new(io: T, compression: bool, max_message_size: usize) -> Self {
        Self {
            io,
            reading: None,
            compression,
            max_message_size,
            unsent: None,
        }
    }

    /// The continuation and control frames decoded since the last call
    /// (see [`Decoder::take_uncharged`]).
    pub(crate) fn take_uncharged(&mut self) -> u32 {
        self.reading
            .as_mut()
            .map_or(0, |reading| reading.decoder.take_uncharged())
    }

    /// Drops the decoder if it holds nothing (no frame begun, no frame
    /// left to charge): a connection that went quiet gives it back. Called
    /// when the heartbeat wakes, so a busy connection keeps its decoder.
    pub(crate) fn release_idle_decoder(&mut self) {
        if self.reading.as_ref().is_some_and(|reading| {
            reading.unread_at == reading.unread.len() && reading.decoder.is_at_rest()
        }) {
            self.reading = None;
        }
    }

    /// The next event, or [`Decoded::ChargeFrames`]; never
    /// [`Decoded::NeedMore`]. Cancel-safe: all state is in `self`.
    pub(crate) async fn next(&mut self) -> Result<Decoded, ReadError> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<Decoded, ReadError>> {
        if let Some(reading) = &mut self.reading
            && reading.unread_at < reading.unread.len()
        {
            let mut input = &reading.unread[reading.unread_at..];
            let decoded = reading.decoder.decode(&mut input);
            reading.unread_at = reading.unread.len() - input.len();
            if reading.unread_at == reading.unread.len() {
                reading.unread = Vec::new();
                reading.unread_at = 0;
            }
            match decoded? {
                Decoded::NeedMore => {}
                decoded => return Poll::Ready(Ok(decoded)),
            }
        }
        for _ in 0..READS_PER_POLL {
            let decoded = READ_BUFFER.with_borrow_mut(|buffer| {
                let mut buffer = ReadBuf::uninit(buffer);
                ready!(Pin::new(&mut self.io).poll_read(cx, &mut buffer))?;
                let mut input = buffer.filled();
                if input.is_empty() {
                    return Poll::Ready(Err(ReadError::Eof));
                }
                let (compression, max_message_size) = (self.compression, self.max_message_size);
                let reading = self.reading.get_or_insert_with(|| {
                    Box::new(Reading {
                        decoder: Decoder::new(compression, max_message_size),
                        unread: Vec::new(),
                        unread_at: 0,
                    })
                });
                let decoded = reading.decoder.decode(&mut input)?;
                if !input.is_empty() {
                    reading.unread = input.to_vec();
                    reading.unread_at = 0;
                }
                Poll::Ready(Ok(decoded))
            });
            match ready!(decoded)? {
                Decoded::NeedMore => {}
                decoded => return Poll::Ready(Ok(decoded)),
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Writes the frames of `batch` (compressed for a client that
    /// negotiated `window_bits`), up to [`WRITE_BATCH`] per vectored write,
    /// and waits until the socket took them all. Cancel-safe: what is not
    /// written yet stays in `batch` or in `self`.
    pub(crate) async fn write_batch(
        &mut self,
        batch: &mut Vec<Frame>,
        window_bits: Option<u8>,
    ) -> io::Result<()> {
        poll_fn(|cx| self.poll_write_batch(cx, batch, window_bits)).await
    }

    /// [`write_batch`](Self::write_batch), polled by hand.
    pub(crate) fn poll_write_batch(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut Vec<Frame>,
        window_bits: Option<u8>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(self.poll_flush(cx))?;
            if batch.is_empty() {
                return Poll::Ready(Ok(()));
            }
            let count = batch.len().min(WRITE_BATCH);
            let frames = &mut batch[..count];
            for frame in frames.iter_mut() {
                if let Frame::Message(message) = frame {
                    *frame = Frame::WebSocket(match window_bits {
                        Some(window_bits) => deflate::frame_for(message, window_bits),
                        None => ServerFrame::message(message),
                    });
                }
            }
            // Pre-encoded frames are for SSE streams only.
            let frames = frames.iter().filter_map(|frame| match frame {
                Frame::WebSocket(frame) => Some(frame),
                Frame::Message(_) | Frame::Encoded(_) => None,
            });
            self.write_corked(cx, frames)?;
            batch.drain(..count);
        }
    }

    /// Sends one frame (a pong, a ping, a close) after what waits, and
    /// waits until the socket took it. Not an `async fn`: its future is
    /// the frame and a borrow, no copy of its arguments.
    pub(crate) fn send(
        &mut self,
        frame: ServerFrame,
    ) -> impl Future<Output = io::Result<()>> + use<'_, T> {
        let mut frame = Some(frame);
        poll_fn(move |cx| {
            ready!(self.poll_flush(cx))?;
            if let Some(frame) = frame.take() {
                self.write_corked(cx, std::iter::once(&frame))?;
            }
            self.poll_flush(cx)
        })
    }

    /// Tries one vectored write of `frames` (at most [`WRITE_BATCH`]); what
    /// the socket does not take is kept in `unsent`.
    fn write_corked<'a>(
        &mut self,
        cx: &mut Context<'_>,
        frames: impl Iterator<Item = &'a ServerFrame> + Clone,
    ) -> io::Result<()> {
        // On the stack but not initialised up front: filling whole arrays of
        // WRITE_BATCH headers and slices was ~3 KB of stores per write, and
        // most writes carry one frame.
        // Pushed, not collected: a collected SmallVec is returned by value,
        // a copy of the whole inline array.
        let mut headers = SmallVec::<[EncodedHeader; WRITE_BATCH]>::new();
        for frame in frames.clone().take(WRITE_BATCH) {
            headers.push(frame.header());
        }
        let mut slices = IoSlices::new();
        let mut total = 0;
        for (header, frame) in headers.iter().zip(frames.clone()) {
            for piece in [header.as_bytes(), frame.payload()] {
                if !piece.is_empty() {
                    slices.push(IoSlice::new(piece));
                    total += piece.len();
                }
            }
        }
        let mut written = match Pin::new(&mut self.io).poll_write_vectored(cx, &slices) {
            Poll::Ready(Ok(0)) if total > 0 => return Err(io::ErrorKind::WriteZero.into()),
            Poll::Ready(Ok(written)) => written,
            Poll::Ready(Err(error)) => return Err(error),
            Poll::Pending => 0,
        };
        if written == total {
            return Ok(());
        }
        let unsent = self.unsent.get_or_insert_default();
        for (header, frame) in headers.iter().zip(frames) {
            let header = header.as_bytes();
            let payload = frame.payload();
            if written < header.len() {
                unsent.push_back(Bytes::copy_from_slice(&header[written..]));
            }
            written = written.saturating_sub(header.len());
            if written < payload.len() {
                unsent.push_back(payload.slice(written..));
            }
            written = written.saturating_sub(payload.len());
        }
        Ok(())
    }

    /// Writes what waits in `unsent`; its memory is given back once empty.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(unsent) = &mut self.unsent else {
            return Poll::Ready(Ok(()));
        };
        while !unsent.is_empty() {
            let mut written = {
                let slices: IoSlices<'_> = unsent
                    .iter()
                    .take(2 * WRITE_BATCH)
                    .map(|bytes| IoSlice::new(bytes))
                    .collect();
                ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices))?
            };
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            while written > 0 {
                let front = unsent.front_mut().expect("written bytes were unsent");
                if written < front.len() {
                    front.advance(written);
                    break;
                }
                written -= front.len();
                unsent.pop_front();
            }
        }
        self.unsent = None;
        Poll::Ready(Ok(()))
    }
}
