//! The peer operations of one invocation, queued in order.
//!
//! `Peer` operations are synchronous; during a hook they are recorded here,
//! and the entry performs them in order once the hook returns, before the
//! invocation ends (Lambda may freeze the process right after).

use std::sync::{Arc, Mutex, PoisonError};
use xws::{
    CloseFrame, Error, Message, Topic,
    adapter::PeerTransport,
    stream::{PresenceEvent, Recovery},
};

/// One recorded operation.
#[derive(Debug)]
pub(crate) enum Op {
    Send(Message),
    Subscribe(Topic),
    Unsubscribe(Topic),
    Publish(Topic, Message),
    Close(CloseFrame),
    /// A publication to a topic that keeps history: appended, then posted
    /// with its position.
    PublishKept(Topic, Message),
    /// A prepared subscription starts: its replay, then live.
    Live(Topic, Box<Recovery>),
    /// A presence join or leave, for the members that asked.
    Announce(PresenceEvent),
}

#[derive(Debug, Default)]
struct State {
    ops: Vec<Op>,
    closed: bool,
}

/// The queue shared by the peer's transport and the entry.
#[derive(Clone, Debug, Default)]
pub(crate) struct OpQueue(Arc<Mutex<State>>);

impl OpQueue {
    pub(crate) fn push(&self, op: Op) -> Result<(), Error> {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if state.closed {
            return Err(Error::PeerClosed);
        }
        if let Op::Close(_) = op {
            state.closed = true;
        }
        state.ops.push(op);
        Ok(())
    }

    /// Takes the operations recorded so far.
    pub(crate) fn drain(&self) -> Vec<Op> {
        std::mem::take(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner).ops)
    }
}

impl PeerTransport for OpQueue {
    fn send(&self, message: Message) -> Result<(), Error> {
        let message = crate::to_wire(message)?;
        xws::metrics::messages_out(1, message.len());
        self.push(Op::Send(message))
    }

    fn subscribe(&self, topic: &Topic) -> Result<(), Error> {
        self.push(Op::Subscribe(topic.clone()))
    }

    fn unsubscribe(&self, topic: &Topic) -> Result<(), Error> {
        self.push(Op::Unsubscribe(topic.clone()))
    }

    fn publish(&self, topic: &Topic, message: Message) -> Result<(), Error> {
        let message = crate::to_wire(message)?;
        self.push(Op::Publish(topic.clone(), message))
    }

    fn close(&self, frame: CloseFrame) {
        // A second close is a no-op, as on every adapter.
        let _ = self.push(Op::Close(frame));
    }
}
