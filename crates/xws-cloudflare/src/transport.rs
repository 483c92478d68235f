//! What a peer's operations do inside the Durable Object.

use std::sync::Arc;

use worker::WebSocket;
use xws::{CloseFrame, Error, Message, PeerId, Topic, adapter::PeerTransport};

use crate::registry::{self, Registry};

/// A hibernatable WebSocket: sends go to its socket, topics to the
/// registry's index (and, with the rest of the peer's state, into the
/// attachment the object stores after each hook).
pub struct SocketTransport {
    pub(crate) id: PeerId,
    pub(crate) socket: WebSocket,
    pub(crate) registry: Arc<Registry>,
}

impl PeerTransport for SocketTransport {
    fn send(&self, message: Message) -> Result<(), Error> {
        registry::send(&self.socket, &message)?;
        xws::metrics::messages_out(1, message.len());
        Ok(())
    }

    fn subscribe(&self, topic: &Topic) -> Result<(), Error> {
        self.registry.subscribe(&self.id, topic);
        Ok(())
    }

    fn unsubscribe(&self, topic: &Topic) -> Result<(), Error> {
        self.registry.unsubscribe(&self.id, topic);
        Ok(())
    }

    fn publish(&self, topic: &Topic, message: Message) -> Result<(), Error> {
        self.registry.publish(topic, &message, Some(&self.id));
        Ok(())
    }

    fn close(&self, frame: CloseFrame) {
        // 1005, 1006 and 1015 are for reporting only; a close frame cannot carry them.
        let code = if frame.code.is_sendable() {
            frame.code.as_u16()
        } else {
            1000
        };
        if let Err(e) = self.socket.close(Some(code), Some(frame.reason)) {
            tracing::debug!(peer = %self.id, error = %e, "closing an already closed socket");
        }
    }
}
