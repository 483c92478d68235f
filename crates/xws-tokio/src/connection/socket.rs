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
//! - Writes are corked: a batch of frames goes out as one vectored write
//!   (headers built on the stack, payloads as they are), one syscall per
//!   batch. Only what the socket does not take is kept, as shared `Bytes`,
//!   until it is written.

use bytes::{Buf, Bytes};
use std::{
    cell::RefCell,
    collections::VecDeque,
    future::poll_fn,
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
    decoder: Decoder,
    /// Bytes read past the last event, until they are decoded.
    unread: Vec<u8>,
    unread_at: usize,
    /// What the socket did not take of earlier writes, in order.
    unsent: VecDeque<Bytes>,
}

impl<T: AsyncRead + AsyncWrite + Unpin> Socket<T> {
    pub(crate) fn new(io: T, decoder: Decoder) -> Self {
        Self {
            io,
            decoder,
            unread: Vec::new(),
            unread_at: 0,
            unsent: VecDeque::new(),
        }
    }

    pub(crate) fn decoder(&mut self) -> &mut Decoder {
        &mut self.decoder
    }

    /// The next event, or [`Decoded::ChargeFrames`]; never
    /// [`Decoded::NeedMore`]. Cancel-safe: all state is in `self`.
    pub(crate) async fn next(&mut self) -> Result<Decoded, ReadError> {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<Decoded, ReadError>> {
        if self.unread_at < self.unread.len() {
            let mut input = &self.unread[self.unread_at..];
            let decoded = self.decoder.decode(&mut input);
            self.unread_at = self.unread.len() - input.len();
            if self.unread_at == self.unread.len() {
                self.unread = Vec::new();
                self.unread_at = 0;
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
                let decoded = self.decoder.decode(&mut input)?;
                if !input.is_empty() {
                    self.unread = input.to_vec();
                    self.unread_at = 0;
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
        poll_fn(|cx| {
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
        })
        .await
    }

    /// Sends one frame (a pong, a ping, a close) after what waits, and
    /// waits until the socket took it.
    pub(crate) async fn send(&mut self, frame: ServerFrame) -> io::Result<()> {
        let mut frame = Some(frame);
        poll_fn(|cx| {
            ready!(self.poll_flush(cx))?;
            if let Some(frame) = frame.take() {
                self.write_corked(cx, std::iter::once(&frame))?;
            }
            self.poll_flush(cx)
        })
        .await
    }

    /// Tries one vectored write of `frames` (at most [`WRITE_BATCH`]); what
    /// the socket does not take is kept in `unsent`.
    fn write_corked<'a>(
        &mut self,
        cx: &mut Context<'_>,
        frames: impl Iterator<Item = &'a ServerFrame> + Clone,
    ) -> io::Result<()> {
        let mut headers = [EncodedHeader::EMPTY; WRITE_BATCH];
        for (header, frame) in headers.iter_mut().zip(frames.clone()) {
            *header = frame.header();
        }
        let mut slices = [IoSlice::new(&[]); 2 * WRITE_BATCH];
        let (mut used, mut total) = (0, 0);
        for (header, frame) in headers.iter().zip(frames.clone()) {
            for piece in [header.as_bytes(), frame.payload()] {
                if !piece.is_empty() {
                    slices[used] = IoSlice::new(piece);
                    used += 1;
                    total += piece.len();
                }
            }
        }
        let mut written = match Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..used]) {
            Poll::Ready(Ok(0)) if total > 0 => return Err(io::ErrorKind::WriteZero.into()),
            Poll::Ready(Ok(written)) => written,
            Poll::Ready(Err(error)) => return Err(error),
            Poll::Pending => 0,
        };
        if written == total {
            return Ok(());
        }
        for (header, frame) in headers.iter().zip(frames) {
            let header = header.as_bytes();
            let payload = frame.payload();
            if written < header.len() {
                self.unsent
                    .push_back(Bytes::copy_from_slice(&header[written..]));
            }
            written = written.saturating_sub(header.len());
            if written < payload.len() {
                self.unsent.push_back(payload.slice(written..));
            }
            written = written.saturating_sub(payload.len());
        }
        Ok(())
    }

    /// Writes what waits in `unsent`; its memory is given back once empty.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.unsent.is_empty() {
            let mut slices = [IoSlice::new(&[]); 2 * WRITE_BATCH];
            let used = self.unsent.len().min(slices.len());
            for (slice, bytes) in slices.iter_mut().zip(&self.unsent) {
                *slice = IoSlice::new(bytes);
            }
            let mut written =
                ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..used]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            while written > 0 {
                let front = self.unsent.front_mut().expect("written bytes were unsent");
                if written < front.len() {
                    front.advance(written);
                    break;
                }
                written -= front.len();
                self.unsent.pop_front();
            }
        }
        if self.unsent.capacity() > 0 {
            self.unsent = VecDeque::new();
        }
        Poll::Ready(Ok(()))
    }
}
