//! The Worker's queue between an SSE stream's socket (written as the
//! object's events arrive) and the response body (read as the client
//! takes them).
//!
//! `Response::from_stream` hands the body to `wasm_streams`, whose
//! `ReadableStream` has a high-water mark of 0: the runtime pulls the next
//! chunk only once it has written the last one to the client. So what a
//! slow client has not taken waits here, and this queue is bounded as a
//! Tokio peer's is: [`Limits::send_queue`] chunks and
//! [`Limits::send_queue_bytes`] bytes (a chunk larger than the budget
//! still fits an empty queue), past which [`Limits::slow_consumer`]
//! applies. Under [`SlowConsumer::Close`] the queued events are dropped at
//! once and the stream ends with a comment saying why, as on the
//! serverless targets; under [`SlowConsumer::DropMessage`] the event is
//! dropped for this stream only.

use std::{
    cell::RefCell,
    collections::VecDeque,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll, Waker},
};

use futures_util::Stream;
use xws::{Error, Limits, SlowConsumer};

/// One chunk of an SSE body, as `Response::from_stream` takes it.
pub(crate) type Chunk = Result<Vec<u8>, worker::Error>;

/// The last words of a stream ended for reading too slowly (the wording of
/// the serverless targets).
const SLOW_READER_END: &str = "the client reads too slowly; reconnect";

#[derive(Default)]
struct Queue {
    chunks: VecDeque<Vec<u8>>,
    bytes: usize,
    /// Written after the queued chunks, then the body ends.
    last: Option<Vec<u8>>,
    ended: bool,
    reader_gone: bool,
    reader: Option<Waker>,
}

impl Queue {
    fn wake(&mut self) {
        if let Some(waker) = self.reader.take() {
            waker.wake();
        }
    }
}

/// The writing side, held by the task that reads the socket.
pub(crate) struct RelayWriter {
    queue: Rc<RefCell<Queue>>,
    capacity: usize,
    byte_budget: usize,
    slow_consumer: SlowConsumer,
    /// Whether the queue has been full once (warned once per stream).
    overflowed: bool,
}

/// The reading side: the response body.
pub(crate) struct RelayReader {
    queue: Rc<RefCell<Queue>>,
}

/// A relay bounded by `limits`' send queue.
pub(crate) fn relay(limits: &Limits) -> (RelayWriter, RelayReader) {
    let queue = Rc::new(RefCell::new(Queue::default()));
    (
        RelayWriter {
            queue: Rc::clone(&queue),
            capacity: limits.send_queue.max(1),
            byte_budget: limits.send_queue_bytes,
            slow_consumer: limits.slow_consumer,
            overflowed: false,
        },
        RelayReader { queue },
    )
}

impl RelayWriter {
    /// Queues an event. [`Error::PeerClosed`]: the client left or the
    /// stream ended. [`Error::QueueFull`]: the client reads too slowly and,
    /// under [`SlowConsumer::Close`], the stream now ends: what was queued
    /// is dropped and only the closing comment is left to write.
    pub(crate) fn push(&mut self, chunk: Vec<u8>) -> Result<(), Error> {
        let mut queue = self.queue.borrow_mut();
        if queue.reader_gone || queue.ended {
            return Err(Error::PeerClosed);
        }
        let over_budget = !queue.chunks.is_empty() && queue.bytes + chunk.len() > self.byte_budget;
        if queue.chunks.len() >= self.capacity || over_budget {
            xws::metrics::dropped(xws::metrics::DropReason::SlowReader, 1);
            let first = !std::mem::replace(&mut self.overflowed, true);
            return match self.slow_consumer {
                SlowConsumer::Close => {
                    tracing::warn!(
                        queued = queue.chunks.len(),
                        bytes = queue.bytes,
                        "SSE send queue full: ending the slow reader's stream"
                    );
                    queue.chunks = VecDeque::new();
                    queue.bytes = 0;
                    queue.last = Some(xws::sse::comment(SLOW_READER_END).to_vec());
                    queue.ended = true;
                    queue.wake();
                    Err(Error::QueueFull)
                }
                SlowConsumer::DropMessage => {
                    if first {
                        tracing::warn!(
                            queued = queue.chunks.len(),
                            bytes = queue.bytes,
                            "SSE send queue full: dropping events for this slow reader"
                        );
                    }
                    Ok(())
                }
            };
        }
        queue.bytes += chunk.len();
        queue.chunks.push_back(chunk);
        queue.wake();
        Ok(())
    }

    /// Queues `chunk` only if nothing waits (a keep-alive: queued events
    /// keep the stream busy already). [`Error::PeerClosed`] if the client
    /// left.
    pub(crate) fn push_if_idle(&mut self, chunk: Vec<u8>) -> Result<(), Error> {
        let idle = self.queue.borrow().chunks.is_empty();
        if idle {
            return self.push(chunk);
        }
        match self.queue.borrow().reader_gone {
            true => Err(Error::PeerClosed),
            false => Ok(()),
        }
    }

    /// Ends the body once the queued events are written.
    pub(crate) fn end(&self) {
        let mut queue = self.queue.borrow_mut();
        queue.ended = true;
        queue.wake();
    }
}

impl Drop for RelayWriter {
    fn drop(&mut self) {
        self.end();
    }
}

impl Stream for RelayReader {
    type Item = Chunk;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Chunk>> {
        let mut queue = self.queue.borrow_mut();
        if let Some(chunk) = queue.chunks.pop_front() {
            queue.bytes -= chunk.len();
            return Poll::Ready(Some(Ok(chunk)));
        }
        if let Some(last) = queue.last.take() {
            return Poll::Ready(Some(Ok(last)));
        }
        if queue.ended {
            return Poll::Ready(None);
        }
        queue.reader = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for RelayReader {
    fn drop(&mut self) {
        // The client left (the runtime cancelled the body): free what waits.
        let mut queue = self.queue.borrow_mut();
        queue.reader_gone = true;
        queue.chunks = VecDeque::new();
        queue.bytes = 0;
    }
}
