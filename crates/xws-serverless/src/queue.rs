//! A stream's queue of encoded events, written by its peer and by the
//! topics it listens to, read by the response body.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use bytes::Bytes;
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use xws::{CloseFrame, Error, Message};

/// What the body reads from the queue.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// An encoded event.
    Event(Bytes),
    /// The stream ends.
    End(End),
}

/// Why a stream ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// It reached its lifetime, before the platform's limit: the client
    /// reconnects after the `retry:` hint.
    Lifetime,
    /// The handler closed it ([`xws::Peer::close`]): an `event: close`
    /// carries the code and reason, and the client should not reconnect.
    Closed(CloseFrame),
    /// The client read slower than events came and the queue filled up.
    SlowReader,
    /// The stream lost its source of publications (a broker connection):
    /// the client reconnects.
    Interrupted,
}

/// The writing side of a stream's queue; cheap to clone.
#[derive(Clone, Debug)]
pub struct EventQueue {
    sender: UnboundedSender<Outgoing>,
    queued: Arc<AtomicUsize>,
    capacity: usize,
}

/// The reading side, owned by the body.
pub(crate) struct QueueReader {
    pub(crate) receiver: UnboundedReceiver<Outgoing>,
    queued: Arc<AtomicUsize>,
}

/// A queue holding at most `capacity` events.
pub(crate) fn queue(capacity: usize) -> (EventQueue, QueueReader) {
    let (sender, receiver) = unbounded();
    let queued = Arc::new(AtomicUsize::new(0));
    (
        EventQueue {
            sender,
            queued: queued.clone(),
            capacity,
        },
        QueueReader { receiver, queued },
    )
}

impl QueueReader {
    /// Counts one event as taken.
    pub(crate) fn taken(&self) {
        self.queued.fetch_sub(1, Ordering::AcqRel);
    }
}

impl EventQueue {
    /// Queues `message` as an event.
    pub fn send(&self, message: &Message) -> Result<(), Error> {
        self.push(message_event(message))
    }

    /// Queues an encoded event, shared with the other streams it goes to.
    /// A full queue ends the stream ([`End::SlowReader`]).
    pub fn push(&self, event: Bytes) -> Result<(), Error> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            self.end(End::SlowReader);
            return Err(Error::QueueFull);
        }
        self.sender
            .unbounded_send(Outgoing::Event(event))
            .map_err(|_| {
                self.queued.fetch_sub(1, Ordering::AcqRel);
                Error::PeerClosed
            })
    }

    /// Ends the stream after what is queued; later events are refused.
    pub fn end(&self, why: End) {
        let _ = self.sender.unbounded_send(Outgoing::End(why));
        self.sender.close_channel();
    }

    /// Whether the stream has ended (or its client left).
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }
}

/// A message as an SSE event without an `id:`: text as `event: message`,
/// binary as base64 in `event: binary`, as on every xws target. Only a
/// topic with history gives publications ids (their stream positions).
pub fn message_event(message: &Message) -> Bytes {
    xws::sse::encode_event(None, message)
}

/// `event: recovered`, data `true` or `false`: whether a stream that named
/// a position (its `Last-Event-ID`) got every publication after it. Sent
/// after the replay, before live publications, on every serverless target;
/// `false` means the client should refetch its state.
pub fn recovered_event(recovered: bool) -> Bytes {
    xws::sse::SseEvent::new(recovered.to_string())
        .event("recovered")
        .encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn a_full_queue_ends_the_stream_and_refuses_more() {
        let (queue, mut reader) = queue(2);
        queue.send(&Message::from("a")).unwrap();
        queue.send(&Message::from("b")).unwrap();
        assert!(matches!(
            queue.send(&Message::from("c")),
            Err(Error::QueueFull)
        ));
        assert!(queue.is_closed());
        let mut got = Vec::new();
        while let Some(item) = reader.receiver.next().await {
            got.push(item);
        }
        assert!(matches!(
            got.as_slice(),
            [
                Outgoing::Event(_),
                Outgoing::Event(_),
                Outgoing::End(End::SlowReader)
            ]
        ));
    }

    /// One wording on every serverless target (the resume scenario reads it).
    #[test]
    fn the_recovery_outcome_is_an_event_named_recovered() {
        assert_eq!(
            &recovered_event(true)[..],
            b"event: recovered\ndata: true\n\n"
        );
        assert_eq!(
            &recovered_event(false)[..],
            b"event: recovered\ndata: false\n\n"
        );
    }

    #[test]
    fn binary_is_base64_without_an_id() {
        assert_eq!(
            &message_event(&Message::from(vec![0u8, 255]))[..],
            b"event: binary\ndata: AP8=\n\n"
        );
    }
}
