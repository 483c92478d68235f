//! A [`xws::Hub`] for code running inside the Durable Object (its own
//! routes, `alarm`, work it started): publishes straight to the object's
//! peers, without a request to its own stub.

use std::rc::Rc;

use serde::{Serialize, de::DeserializeOwned};
use xws::{BoxFuture, Delivery, Error, Message, PeerId, Topic, adapter::HubTransport};

use crate::room::Room;

/// Publishes to the peers of the object that owns `room`.
pub struct LocalHub<C> {
    room: Rc<Room<C>>,
}

impl<C> LocalHub<C> {
    /// A hub over the object's peer table.
    pub fn new(room: Rc<Room<C>>) -> Self {
        Self { room }
    }
}

impl<C> HubTransport for LocalHub<C>
where
    C: Serialize + DeserializeOwned + Clone + 'static,
{
    fn publish(
        &self,
        topic: Topic,
        message: Message,
        exclude: Option<PeerId>,
    ) -> BoxFuture<'_, Result<Delivery, Error>> {
        let delivered = self.room.publish(&topic, &message, exclude.as_ref());
        Box::pin(async move { Ok(Delivery { delivered }) })
    }

    fn broadcast(&self, message: Message) -> BoxFuture<'_, Result<Delivery, Error>> {
        let delivered = self.room.broadcast(&message);
        Box::pin(async move { Ok(Delivery { delivered }) })
    }

    fn send_to(&self, peer: PeerId, message: Message) -> BoxFuture<'_, Result<bool, Error>> {
        let sent = self.room.send_to(&peer, &message);
        Box::pin(async move { Ok(sent) })
    }

    fn peers(&self) -> BoxFuture<'_, Result<Vec<PeerId>, Error>> {
        let peers = self.room.peer_ids();
        Box::pin(async move { Ok(peers) })
    }
}
