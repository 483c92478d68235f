//! A peer's bounded outgoing queue.
//!
//! Written for the fan-out path instead of using `tokio::sync::mpsc`: a
//! publication pushes to thousands of queues, so a push is one uncontended
//! lock and a waker check, and the connection drains up to a whole write
//! batch under one lock. The queue allocates nothing until something is
//! queued, which keeps idle connections small. (Profiling the chat-room
//! benchmark put tokio's bounded channel at ~15% of the server's samples.)

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use std::{
    collections::VecDeque,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
};

use crate::link::Frame;

/// A queue that has held this many frames gives the memory back once empty.
const SHRINK_ABOVE: usize = 64;

/// Why a frame was not queued.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The queue holds `capacity` frames or `byte_budget` bytes: the reader
    /// is slow.
    Full,
    /// The reader is gone.
    Closed,
}

/// The queued frames and their payload bytes, counted under one lock.
#[derive(Default)]
struct Queue {
    frames: VecDeque<Frame>,
    bytes: usize,
}

impl Queue {
    fn pop(&mut self) -> Option<Frame> {
        let frame = self.frames.pop_front()?;
        self.bytes -= frame.len();
        Some(frame)
    }
}

struct Shared {
    queue: Mutex<Queue>,
    reader: AtomicWaker,
    /// A `u32` (larger capacities saturate): with it the record fits a
    /// smaller malloc chunk, 16 bytes less for every peer.
    capacity: u32,
    byte_budget: AtomicUsize,
    reader_gone: AtomicBool,
}

/// The writing side, held by the peer's link.
pub(crate) struct Outbox {
    shared: Arc<Shared>,
}

/// The reading side, held by the peer's connection task or response body.
pub(crate) struct OutboxReader {
    shared: Arc<Shared>,
}

/// A queue of at most `capacity` frames and `byte_budget` payload bytes. A
/// frame larger than the budget still fits an empty queue, so a large
/// message is delayed, never refused for its size alone.
pub(crate) fn outbox(capacity: usize, byte_budget: usize) -> (Outbox, OutboxReader) {
    let shared = Arc::new(Shared {
        queue: Mutex::default(),
        reader: AtomicWaker::new(),
        capacity: u32::try_from(capacity.max(1)).unwrap_or(u32::MAX),
        byte_budget: AtomicUsize::new(byte_budget),
        reader_gone: AtomicBool::new(false),
    });
    (
        Outbox {
            shared: Arc::clone(&shared),
        },
        OutboxReader { shared },
    )
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self.shared.queue.lock();
        f.debug_struct("Outbox")
            .field("queued", &queue.frames.len())
            .field("bytes", &queue.bytes)
            .field("capacity", &self.shared.capacity)
            .field(
                "byte_budget",
                &self.shared.byte_budget.load(Ordering::Relaxed),
            )
            .finish()
    }
}

impl Outbox {
    /// Queues `frame` without waiting and wakes the reader.
    pub(crate) fn push(&self, frame: Frame) -> Result<(), PushError> {
        if self.shared.reader_gone.load(Ordering::Acquire) {
            return Err(PushError::Closed);
        }
        {
            let mut queue = self.shared.queue.lock();
            let len = frame.len();
            let budget = self.shared.byte_budget.load(Ordering::Relaxed);
            let over_budget = !queue.frames.is_empty() && queue.bytes + len > budget;
            let full =
                u32::try_from(queue.frames.len()).map_or(true, |len| len >= self.shared.capacity);
            if full || over_budget {
                return Err(PushError::Full);
            }
            queue.bytes += len;
            queue.frames.push_back(frame);
        }
        self.shared.reader.wake();
        Ok(())
    }
}

impl Outbox {
    /// Changes the byte budget (see [`outbox`]).
    pub(crate) fn set_byte_budget(&self, byte_budget: usize) {
        self.shared
            .byte_budget
            .store(byte_budget, Ordering::Relaxed);
    }
}

impl OutboxReader {
    /// Moves up to `max` queued frames into `batch`; returns how many.
    pub(crate) fn take(&mut self, batch: &mut Vec<Frame>, max: usize) -> usize {
        let mut queue = self.shared.queue.lock();
        let Queue { frames, bytes } = &mut *queue;
        let n = frames.len().min(max);
        batch.extend(frames.drain(..n).inspect(|frame| *bytes -= frame.len()));
        if frames.is_empty() && frames.capacity() > SHRINK_ABOVE {
            *frames = VecDeque::new();
        }
        n
    }

    /// Waits until at least one frame is queued, then takes up to `max`.
    pub(crate) fn poll_batch(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut Vec<Frame>,
        max: usize,
    ) -> Poll<usize> {
        let n = self.take(batch, max);
        if n > 0 {
            return Poll::Ready(n);
        }
        self.shared.reader.register(cx.waker());
        // A push between the first look and the registration woke nobody.
        match self.take(batch, max) {
            0 => Poll::Pending,
            n => Poll::Ready(n),
        }
    }

    /// One frame, for response bodies that stream frame by frame.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Frame> {
        if let Some(frame) = self.pop() {
            return Poll::Ready(frame);
        }
        self.shared.reader.register(cx.waker());
        // A push between the first look and the registration woke nobody.
        self.pop().map_or(Poll::Pending, Poll::Ready)
    }

    fn pop(&mut self) -> Option<Frame> {
        self.shared.queue.lock().pop()
    }
}

impl Drop for OutboxReader {
    fn drop(&mut self) {
        self.shared.reader_gone.store(true, Ordering::Release);
        *self.shared.queue.lock() = Queue::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;
    use xws::Message;

    fn frame(n: u8) -> Frame {
        Frame::Message(Message::from(vec![n]))
    }

    #[test]
    fn bounded_in_order_and_closed_when_the_reader_leaves() {
        let (outbox, mut reader) = outbox(2, usize::MAX);
        assert_eq!(outbox.push(frame(1)), Ok(()));
        assert_eq!(outbox.push(frame(2)), Ok(()));
        assert_eq!(outbox.push(frame(3)), Err(PushError::Full));
        let mut batch = Vec::new();
        assert_eq!(reader.take(&mut batch, 10), 2);
        assert!(matches!(&batch[0], Frame::Message(m) if m.bytes()[..] == [1]));
        assert!(matches!(&batch[1], Frame::Message(m) if m.bytes()[..] == [2]));
        drop(reader);
        assert_eq!(outbox.push(frame(4)), Err(PushError::Closed));
    }

    #[test]
    fn bounded_in_bytes_but_a_large_frame_fits_an_empty_queue() {
        let (outbox, mut reader) = outbox(100, 10);
        let sized = |n: usize| Frame::Message(Message::from(vec![0u8; n]));
        assert_eq!(
            outbox.push(sized(25)),
            Ok(()),
            "alone, it may exceed the budget"
        );
        assert_eq!(outbox.push(sized(1)), Err(PushError::Full));
        let mut batch = Vec::new();
        assert_eq!(reader.take(&mut batch, 10), 1);
        assert_eq!(outbox.push(sized(6)), Ok(()));
        assert_eq!(outbox.push(sized(4)), Ok(()));
        assert_eq!(
            outbox.push(sized(1)),
            Err(PushError::Full),
            "10 bytes queued"
        );
        assert!(matches!(reader.pop(), Some(Frame::Message(m)) if m.len() == 6));
        assert_eq!(outbox.push(sized(6)), Ok(()), "popping frees its bytes");
    }

    #[tokio::test]
    async fn a_push_wakes_a_waiting_reader() {
        let (outbox, mut reader) = outbox(8, usize::MAX);
        let waiting = tokio::spawn(async move {
            let mut batch = Vec::new();
            poll_fn(|cx| reader.poll_batch(cx, &mut batch, 8)).await;
            batch.len()
        });
        tokio::task::yield_now().await;
        outbox.push(frame(1)).unwrap();
        let taken = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("the reader was not woken")
            .unwrap();
        assert_eq!(taken, 1);
    }
}
