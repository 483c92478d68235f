//! What a peer's operations do inside the Durable Object.

use std::rc::Weak;

use serde::{Serialize, de::DeserializeOwned};

use worker::WebSocket;
use xws::{CloseFrame, Error, Message, PeerId, Topic, adapter::PeerTransport};

use crate::room::Room;

/// A hibernatable WebSocket. Topics need no runtime call: they are part of
/// the peer state the object stores in the attachment after every hook.
pub struct SocketTransport<C> {
    pub(crate) id: PeerId,
    pub(crate) socket: WebSocket,
    pub(crate) room: Weak<Room<C>>,
}

impl<C: Serialize + DeserializeOwned + Clone + 'static> PeerTransport for SocketTransport<C> {
    fn send(&self, message: Message) -> Result<(), Error> {
        let sent = match &message {
            Message::Text(text) => self.socket.send_with_str(text.as_str()),
            Message::Binary(bytes) => self.socket.send_with_bytes(bytes),
        };
        sent.map_err(|_| Error::PeerClosed)
    }

    fn subscribe(&self, _: &Topic) -> Result<(), Error> {
        Ok(())
    }

    fn unsubscribe(&self, _: &Topic) -> Result<(), Error> {
        Ok(())
    }

    fn publish(&self, topic: &Topic, message: Message) -> Result<(), Error> {
        publish_from(&self.room, &self.id, topic, message)
    }

    fn close(&self, frame: CloseFrame) {
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

fn publish_from<C: Serialize + DeserializeOwned + Clone + 'static>(
    room: &Weak<Room<C>>,
    sender: &PeerId,
    topic: &Topic,
    message: Message,
) -> Result<(), Error> {
    let room = room.upgrade().ok_or(Error::PeerClosed)?;
    room.publish(topic, &message, Some(sender));
    Ok(())
}
