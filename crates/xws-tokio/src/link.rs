//! A peer's outgoing side: its bounded queue and its close signal.

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use std::{
    sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering},
    task::{Context, Poll},
};
use xws::{CloseCode, CloseFrame, Error, Message, PeerId, SlowConsumer};

use crate::{
    outbox::{Outbox, OutboxReader, PushError, outbox},
    wire::ServerFrame,
};

/// What travels through a peer's queue.
#[derive(Debug)]
pub(crate) enum Frame {
    /// A message for a peer, encoded by its connection.
    Message(Message),
    /// A WebSocket frame made once per publication and shared by every
    /// WebSocket subscriber (compressed once per window size).
    WebSocket(ServerFrame),
    /// Bytes already encoded for the wire (an SSE event, shared by every
    /// SSE subscriber of one publication).
    Encoded(Bytes),
}

impl Frame {
    /// Payload bytes, what the queue's byte budget counts.
    pub(crate) fn len(&self) -> usize {
        match self {
            Frame::Message(message) => message.len(),
            Frame::WebSocket(message) => message.len(),
            Frame::Encoded(bytes) => bytes.len(),
        }
    }
}

/// How a peer is connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LinkKind {
    WebSocket,
    Sse,
    /// A full peer over SSE + HTTP POST (see `fallback`): it gets every
    /// `Frame::Message` and encodes it itself, like a WebSocket peer.
    Fallback,
}

/// The handle through which everyone else reaches one peer: the registry's
/// fan-out, the peer's own transport and the hub.
#[derive(Debug)]
pub(crate) struct PeerLink {
    pub(crate) id: PeerId,
    pub(crate) kind: LinkKind,
    queue: Outbox,
    slow_consumer: SlowConsumer,
    close: Mutex<Option<CloseFrame>>,
    /// Set with `close`, read without a lock on every loop iteration.
    closing: AtomicBool,
    /// The one task that serves the peer (a WebSocket connection or a
    /// fallback session), woken by a close request: a waker costs an idle
    /// task no pinned future.
    close_waker: AtomicWaker,
    /// Set when the queue first overflows, so that is logged once.
    overflowed: AtomicBool,
    /// Topics this peer is subscribed to, against `Limits::max_topics_per_peer`.
    pub(crate) topics: AtomicUsize,
    /// The permessage-deflate window it negotiated; 0 when it did not.
    deflate_window_bits: AtomicU8,
}

/// One publication's frames for WebSocket subscribers, each made once and
/// shared: the plain conversion, and the compressed frame per
/// permessage-deflate window (8 to 15 bits).
#[derive(Default)]
pub(crate) struct SharedFrames {
    plain: Option<ServerFrame>,
    deflated: [Option<ServerFrame>; 8],
}

impl SharedFrames {
    /// The frame for a WebSocket subscriber whose link is `link`.
    pub(crate) fn frame_for(&mut self, link: &PeerLink, message: &Message) -> Frame {
        let frame = match link.deflate() {
            None => self
                .plain
                .get_or_insert_with(|| ServerFrame::message(message)),
            Some(window_bits) => self.deflated[usize::from(window_bits.clamp(8, 15) - 8)]
                .get_or_insert_with(|| crate::deflate::frame_for(message, window_bits)),
        };
        Frame::WebSocket(frame.clone())
    }
}

impl PeerLink {
    pub(crate) fn new(
        id: PeerId,
        kind: LinkKind,
        capacity: usize,
        slow_consumer: SlowConsumer,
    ) -> (Self, OutboxReader) {
        let byte_budget = xws::Limits::default().send_queue_bytes;
        let (queue, receiver) = outbox(capacity, byte_budget);
        let link = Self {
            id,
            kind,
            queue,
            slow_consumer,
            close: Mutex::new(None),
            closing: AtomicBool::new(false),
            close_waker: AtomicWaker::new(),
            overflowed: AtomicBool::new(false),
            topics: AtomicUsize::new(0),
            deflate_window_bits: AtomicU8::new(0),
        };
        (link, receiver)
    }

    /// Bounds the queue's payload bytes ([`xws::Limits::send_queue_bytes`]);
    /// until called, the default limit applies.
    pub(crate) fn set_byte_budget(&self, byte_budget: usize) {
        self.queue.set_byte_budget(byte_budget);
    }

    /// Records the permessage-deflate window the client negotiated, so
    /// publications reach it compressed.
    pub(crate) fn set_deflate(&self, window_bits: Option<u8>) {
        self.deflate_window_bits
            .store(window_bits.unwrap_or(0), Ordering::Relaxed);
    }

    /// The permessage-deflate window, if negotiated.
    pub(crate) fn deflate(&self) -> Option<u8> {
        match self.deflate_window_bits.load(Ordering::Relaxed) {
            0 => None,
            bits => Some(bits),
        }
    }

    /// Queues a frame without waiting. A full queue applies the
    /// slow-consumer policy: close with 1013, or drop this frame only.
    pub(crate) fn push(&self, frame: Frame) -> Result<(), Error> {
        // Messages out are counted by the callers, once per fan-out rather
        // than once per subscriber: a metric call per push cost the
        // chat-room benchmark a fifth more CPU per message.
        match self.queue.push(frame) {
            Ok(()) => Ok(()),
            Err(PushError::Closed) => Err(Error::PeerClosed),
            Err(PushError::Full) => {
                xws::metrics::dropped(xws::metrics::DropReason::SlowReader, 1);
                // Every publication finds the queue full until the reader
                // catches up or the connection ends: warn once per peer.
                let first = !self.overflowed.swap(true, Ordering::AcqRel);
                match self.slow_consumer {
                    SlowConsumer::Close => {
                        if first {
                            tracing::warn!(peer = %self.id, queue = ?self.queue, "send queue full: closing slow reader with 1013");
                            self.request_close(CloseFrame::new(
                                CloseCode::TRY_AGAIN_LATER,
                                "send queue full: reading too slowly",
                            ));
                        }
                        Err(Error::QueueFull)
                    }
                    SlowConsumer::DropMessage => {
                        if first {
                            tracing::warn!(peer = %self.id, queue = ?self.queue, "send queue full: dropping messages for this slow reader");
                        }
                        Ok(())
                    }
                }
            }
        }
    }

    /// Asks the connection to close; the first request wins.
    pub(crate) fn request_close(&self, frame: CloseFrame) {
        self.close.lock().get_or_insert(frame);
        self.closing.store(true, Ordering::Release);
        self.close_waker.wake();
    }

    /// The close frame asked for, if any.
    pub(crate) fn close_frame(&self) -> Option<CloseFrame> {
        if !self.closing.load(Ordering::Acquire) {
            return None;
        }
        self.close.lock().clone()
    }

    /// Resolves once a close is requested (a request made before the call
    /// is not lost: the flag stays set).
    pub(crate) async fn closing(&self) {
        std::future::poll_fn(|cx| self.poll_closing(cx)).await;
    }

    /// Ready once a close is requested; for the one task that polls it.
    pub(crate) fn poll_closing(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.closing.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.close_waker.register(cx.waker());
        // A request between the first look and the registration woke nobody.
        if self.closing.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_asks_once_to_close_with_1013_and_keeps_refusing() {
        let (link, _reader) = PeerLink::new(
            PeerId::from("p"),
            LinkKind::WebSocket,
            1,
            SlowConsumer::Close,
        );
        let frame = || Frame::Message(Message::from("x"));
        assert!(link.push(frame()).is_ok());
        assert!(matches!(link.push(frame()), Err(Error::QueueFull)));
        assert_eq!(link.close_frame().unwrap().code, CloseCode::TRY_AGAIN_LATER);
        // A later close request (the handler's, say) does not replace it.
        link.request_close(CloseFrame::normal());
        assert!(matches!(link.push(frame()), Err(Error::QueueFull)));
        assert_eq!(link.close_frame().unwrap().code, CloseCode::TRY_AGAIN_LATER);
    }
}
