//! The bounded queue between `send` and the socket.

use parking_lot::Mutex;
use std::collections::VecDeque;
use tokio::sync::Notify;
use xws::Message;

/// Why a message was not taken.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SendError {
    /// The queue holds [`queue_limit`](crate::ClientConfig::queue_limit)
    /// messages already; this one was dropped.
    #[error("send queue full ({0} messages)")]
    QueueFull(usize),
    /// The client was closed.
    #[error("the client is closed")]
    Closed,
    /// The value could not be encoded as JSON.
    #[error("cannot encode the message as JSON: {0}")]
    Json(String),
}

/// Messages waiting for the socket, oldest first.
pub(crate) struct Queue {
    limit: usize,
    messages: Mutex<VecDeque<Message>>,
    pub(crate) ready: Notify,
}

impl Queue {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            messages: Mutex::new(VecDeque::new()),
            ready: Notify::new(),
        }
    }

    pub(crate) fn push(&self, message: Message) -> Result<(), SendError> {
        let mut messages = self.messages.lock();
        if messages.len() >= self.limit {
            return Err(SendError::QueueFull(self.limit));
        }
        messages.push_back(message);
        drop(messages);
        self.ready.notify_one();
        Ok(())
    }

    pub(crate) fn pop(&self) -> Option<Message> {
        self.messages.lock().pop_front()
    }

    /// Puts back a message whose write failed, to go first next time.
    pub(crate) fn unpop(&self, message: Message) {
        self.messages.lock().push_front(message);
    }

    pub(crate) fn len(&self) -> usize {
        self.messages.lock().len()
    }

    pub(crate) fn clear(&self) {
        self.messages.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_beyond_the_limit_and_keeps_order() {
        let queue = Queue::new(2);
        queue.push(Message::from("a")).unwrap();
        queue.push(Message::from("b")).unwrap();
        assert_eq!(queue.push(Message::from("c")), Err(SendError::QueueFull(2)));
        let first = queue.pop().unwrap();
        queue.unpop(first);
        assert_eq!(queue.pop().unwrap().text().unwrap(), "a");
        assert_eq!(queue.pop().unwrap().text().unwrap(), "b");
        assert!(queue.pop().is_none());
    }
}
