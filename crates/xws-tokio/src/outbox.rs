//! A peer's bounded outgoing queue.
//!
//! Written for the fan-out path instead of using `tokio::sync::mpsc`: a
//! publication pushes to thousands of queues, so a push is one uncontended
//! lock, and a wake only when the reader waits (not for every frame of a
//! burst); the connection drains up to a whole write batch under one lock,
//! and finds an empty queue without locking it. The queue allocates nothing
//! until something is queued, which keeps idle connections small.
//! (Profiling the chat-room benchmark put tokio's bounded channel at ~15% of
//! the server's samples; then `futures`' `AtomicWaker`, two more atomic
//! operations per push, at most of the push's time.)

use parking_lot::Mutex;
use std::{
    collections::VecDeque,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering},
    },
    task::{Context, Poll, Waker},
};

use crate::link::Frame;

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
    /// The reader's waker while it waits for a frame; the next push takes it.
    reader: Option<Waker>,
}

impl Queue {
    fn pop(&mut self) -> Option<Frame> {
        let frame = self.frames.pop_front()?;
        self.bytes -= frame.len();
        Some(frame)
    }
}

/// [`Shared::state`]: the queue holds frames.
const HAS_FRAMES: u8 = 1;
/// [`Shared::state`]: the reader's waker waits in the queue (no frames).
const READER_WAITS: u8 = 2;

struct Shared {
    queue: Mutex<Queue>,
    /// [`HAS_FRAMES`] and [`READER_WAITS`], written under `queue`'s lock:
    /// the reader looks here first and locks only when there is something
    /// to take or its waker to leave (it looks far more often than it finds
    /// frames).
    state: AtomicU8,
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
        state: AtomicU8::new(0),
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
    /// Queues `frame` without waiting and wakes the reader if it waits.
    pub(crate) fn push(&self, frame: Frame) -> Result<(), PushError> {
        if self.shared.reader_gone.load(Ordering::Acquire) {
            return Err(PushError::Closed);
        }
        let waiting = {
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
            // The waker is taken: the reader no longer waits.
            self.shared.state.store(HAS_FRAMES, Ordering::Release);
            queue.reader.take()
        };
        // Woken outside the lock: the reader may run at once, elsewhere.
        if let Some(reader) = waiting {
            reader.wake();
        }
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
        if self.shared.state.load(Ordering::Acquire) & HAS_FRAMES == 0 {
            return 0;
        }
        let mut queue = self.shared.queue.lock();
        let Queue { frames, bytes, .. } = &mut *queue;
        let n = frames.len().min(max);
        // Popped one by one: `drain` plus `extend` cost ~3x as much per frame
        // (the drain's bookkeeping and drop), and most batches hold one.
        batch.reserve(n);
        for frame in std::iter::from_fn(|| frames.pop_front()).take(n) {
            *bytes -= frame.len();
            batch.push(frame);
        }
        if frames.is_empty() {
            self.shared.state.store(0, Ordering::Release);
        }
        n
    }

    /// Gives the queue's memory back if it holds nothing and room for more
    /// than `keep` frames. The connection calls it with 0 when it goes quiet
    /// (its heartbeat), rather than as the queue empties: each burst would
    /// otherwise regrow it from nothing, one reallocation per doubling
    /// (~8% of a chat-room delivery's instructions).
    pub(crate) fn release_if_empty(&mut self, keep: usize) {
        let mut queue = self.shared.queue.lock();
        if queue.frames.is_empty() && queue.frames.capacity() > keep {
            queue.frames = VecDeque::new();
        }
    }

    /// Waits until at least one frame is queued, then takes up to `max`.
    pub(crate) fn poll_batch(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut Vec<Frame>,
        max: usize,
    ) -> Poll<usize> {
        match self.take(batch, max) {
            0 => {
                self.wait(cx);
                // A push between the look and the registration woke nobody.
                match self.take(batch, max) {
                    0 => Poll::Pending,
                    n => Poll::Ready(n),
                }
            }
            n => Poll::Ready(n),
        }
    }

    /// One frame, for response bodies that stream frame by frame.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Frame> {
        if let Some(frame) = self.pop() {
            return Poll::Ready(frame);
        }
        self.wait(cx);
        // A push between the look and the registration woke nobody.
        self.pop().map_or(Poll::Pending, Poll::Ready)
    }

    /// Leaves `cx`'s waker for the next push, unless it waits there already
    /// or frames came meanwhile (the caller then takes them).
    ///
    /// The waker left is the reader's task's: a reader is polled by one task
    /// (its connection, or the response body of its stream), whose waker
    /// does not change, so one left and not yet taken need not be replaced.
    fn wait(&mut self, cx: &mut Context<'_>) {
        if self.shared.state.load(Ordering::Acquire) == READER_WAITS {
            return;
        }
        let mut queue = self.shared.queue.lock();
        if !queue.frames.is_empty() {
            return;
        }
        match &mut queue.reader {
            Some(waker) => waker.clone_from(cx.waker()),
            none => *none = Some(cx.waker().clone()),
        }
        self.shared.state.store(READER_WAITS, Ordering::Release);
    }

    fn pop(&mut self) -> Option<Frame> {
        if self.shared.state.load(Ordering::Acquire) & HAS_FRAMES == 0 {
            return None;
        }
        let mut queue = self.shared.queue.lock();
        let frame = queue.pop();
        if queue.frames.is_empty() {
            self.shared.state.store(0, Ordering::Release);
        }
        frame
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

    #[test]
    fn an_emptied_queue_keeps_its_room_until_released() {
        let (outbox, mut reader) = outbox(1000, usize::MAX);
        let capacity = || outbox.shared.queue.lock().frames.capacity();
        for n in 0..300 {
            outbox.push(frame(n as u8)).unwrap();
        }
        let mut batch = Vec::new();
        assert_eq!(reader.take(&mut batch, usize::MAX), 300);
        assert!(capacity() >= 300, "the next burst finds its room");
        reader.release_if_empty(capacity());
        assert!(capacity() >= 300, "kept: not more than asked to keep");
        outbox.push(frame(0)).unwrap();
        reader.release_if_empty(0);
        assert!(capacity() >= 300, "kept: not empty");
        reader.take(&mut batch, usize::MAX);
        reader.release_if_empty(0);
        assert_eq!(capacity(), 0, "given back");
    }

    /// Each push finds the reader waiting again: the waker one push took
    /// must be left again for the next.
    #[tokio::test]
    async fn every_push_of_many_wakes_the_reader_that_waits_again() {
        const FRAMES: usize = 100;
        let (outbox, mut reader) = outbox(FRAMES, usize::MAX);
        let reading = tokio::spawn(async move {
            let mut batch = Vec::new();
            while batch.len() < FRAMES {
                poll_fn(|cx| reader.poll_batch(cx, &mut batch, 1)).await;
            }
            batch.len()
        });
        for n in 0..FRAMES {
            // The reader runs until it waits again, then the next push.
            tokio::task::yield_now().await;
            outbox.push(frame(n as u8)).unwrap();
        }
        let taken = tokio::time::timeout(std::time::Duration::from_secs(5), reading)
            .await
            .expect("a push did not wake the reader")
            .unwrap();
        assert_eq!(taken, FRAMES);
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
