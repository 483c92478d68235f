//! Counts the WebSocket frames a client sends that never become a message.
//!
//! tungstenite answers pings and joins continuation frames by itself: a
//! client can send thousands of empty continuation frames, or pings, and
//! the session sees nothing (or one ping per frame, but no continuation).
//! [`FrameMeter`] sits under tungstenite and reads the frame headers as the
//! bytes pass: every continuation and control frame is counted, so the
//! connection can charge it to the peer's rate limit. Frames that start a
//! message are not counted here; the session counts the message.
//!
//! Reading pauses once [`PAUSE_AT`] counted frames wait to be charged, so a
//! flood cannot outrun the limiter, however fast the client writes.

use futures_util::task::AtomicWaker;
use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    task::{Context, Poll},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    sync::Notify,
};

/// Counted frames that may wait to be charged before reading pauses.
pub(crate) const PAUSE_AT: u32 = 64;

/// What the meter and the connection loop share.
#[derive(Debug, Default)]
pub(crate) struct FrameCount {
    uncharged: AtomicU32,
    /// Reading never pauses again (the connection is closing).
    unmetered: AtomicBool,
    /// Wakes the connection loop: frames wait to be charged.
    waiting: Notify,
    /// Wakes the paused read once the frames were charged.
    reader: AtomicWaker,
}

impl FrameCount {
    /// Takes the frames counted since the last call; a paused read resumes.
    pub(crate) fn take(&self) -> u32 {
        let taken = self.uncharged.swap(0, Ordering::AcqRel);
        self.reader.wake();
        taken
    }

    /// Lets reads run without pausing from now on: a closing connection
    /// reads only to finish the close handshake.
    pub(crate) fn stop(&self) {
        self.unmetered.store(true, Ordering::Release);
        self.reader.wake();
    }

    fn paused(&self) -> bool {
        self.uncharged.load(Ordering::Acquire) >= PAUSE_AT
            && !self.unmetered.load(Ordering::Acquire)
    }

    /// Resolves once [`PAUSE_AT`] frames wait to be charged.
    pub(crate) async fn full(&self) {
        self.waiting.notified().await;
    }
}

/// Where the header parser stands in the byte stream.
#[derive(Debug)]
enum Position {
    /// Inside a frame header: the bytes seen so far.
    Header { bytes: [u8; 14], seen: usize },
    /// Inside a payload: the bytes left to skip.
    Payload(u64),
}

/// `io`, whose reads count continuation and control frames into a shared
/// [`FrameCount`]. Writes pass through.
#[derive(Debug)]
pub(crate) struct FrameMeter<T> {
    io: T,
    count: Arc<FrameCount>,
    position: Position,
}

impl<T> FrameMeter<T> {
    pub(crate) fn new(io: T, count: Arc<FrameCount>) -> Self {
        Self {
            io,
            count,
            position: Position::Header {
                bytes: [0; 14],
                seen: 0,
            },
        }
    }

    /// Follows `data` through frame headers and payloads, counting frames.
    fn scan(&mut self, mut data: &[u8]) {
        let mut counted = 0;
        while !data.is_empty() {
            match &mut self.position {
                Position::Payload(left) => {
                    let skip = (*left).min(data.len() as u64);
                    *left -= skip;
                    data = &data[skip as usize..];
                    if *left == 0 {
                        self.position = Position::Header {
                            bytes: [0; 14],
                            seen: 0,
                        };
                    }
                }
                Position::Header { bytes, seen } => {
                    bytes[*seen] = data[0];
                    *seen += 1;
                    data = &data[1..];
                    let Some((header_len, payload_len)) = header_size(&bytes[..*seen]) else {
                        continue;
                    };
                    if *seen < header_len {
                        continue;
                    }
                    let opcode = bytes[0] & 0x0f;
                    // 0: continuation; 8 and above: close, ping, pong.
                    if opcode == 0 || opcode >= 8 {
                        counted += 1;
                    }
                    self.position = if payload_len == 0 {
                        Position::Header {
                            bytes: [0; 14],
                            seen: 0,
                        }
                    } else {
                        Position::Payload(payload_len)
                    };
                }
            }
        }
        if counted > 0 {
            let before = self.count.uncharged.fetch_add(counted, Ordering::AcqRel);
            if before < PAUSE_AT && before + counted >= PAUSE_AT {
                self.count.waiting.notify_one();
            }
        }
    }
}

/// The header's full length and the payload's, once enough of the header
/// is known to tell.
pub(crate) fn header_size(seen: &[u8]) -> Option<(usize, u64)> {
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

impl<T: AsyncRead + Unpin> AsyncRead for FrameMeter<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.count.paused() {
            self.count.reader.register(cx.waker());
            // Charged in between: read on.
            if self.count.paused() {
                return Poll::Pending;
            }
        }
        let filled = buf.filled().len();
        let poll = Pin::new(&mut self.io).poll_read(cx, buf);
        if poll.is_ready() {
            let this = &mut *self;
            this.scan(&buf.filled()[filled..]);
        }
        poll
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for FrameMeter<T> {
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

    fn meter() -> FrameMeter<()> {
        FrameMeter::new((), Arc::default())
    }

    /// A masked client frame with `opcode`, `fin` and `payload`.
    fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![opcode | if fin { 0x80 } else { 0 }];
        match payload.len() {
            len @ 0..=125 => out.push(0x80 | len as u8),
            len @ 126..=0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&[1, 2, 3, 4]);
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn counts_continuations_and_control_frames_not_message_starts() {
        let mut bytes = frame(0x1, false, b"he");
        bytes.extend(frame(0x0, false, b""));
        bytes.extend(frame(0x9, true, b"ping"));
        bytes.extend(frame(0x0, true, &[b'l'; 300]));
        bytes.extend(frame(0x2, true, &[0; 70_000]));
        bytes.extend(frame(0xA, true, b""));
        let mut meter = meter();
        meter.scan(&bytes);
        assert_eq!(meter.count.take(), 4);
    }

    #[test]
    fn headers_and_payloads_split_across_reads_are_followed() {
        let mut bytes = frame(0x2, true, &[7; 200]);
        for _ in 0..10 {
            bytes.extend(frame(0x9, true, b"x"));
        }
        let mut meter = meter();
        for byte in bytes {
            meter.scan(&[byte]);
        }
        assert_eq!(meter.count.take(), 10);
    }
}
