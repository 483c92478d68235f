//! A [`xws::Hub`] for code running inside the Durable Object (its own
//! routes, `alarm`, work it started): publishes straight to the object's
//! peers, without a request to its own stub.

use std::rc::Rc;

use serde::{Serialize, de::DeserializeOwned};
use xws::{Delivery, Message, PeerId, Pending, Topic, adapter::HubTransport};

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
    // The object's peers are in memory: each operation completes at once.
    fn publish(
        &self,
        topic: Topic,
        message: Message,
        exclude: Option<PeerId>,
    ) -> Pending<Delivery> {
        let delivered = self.room.publish(&topic, &message, exclude.as_ref());
        Pending::ready(Ok(Delivery { delivered }))
    }

    fn broadcast(&self, message: Message) -> Pending<Delivery> {
        let delivered = self.room.broadcast(&message);
        Pending::ready(Ok(Delivery { delivered }))
    }

    fn send_to(&self, peer: PeerId, message: Message) -> Pending<bool> {
        Pending::ready(Ok(self.room.send_to(&peer, &message)))
    }

    fn peers(&self) -> Pending<Vec<PeerId>> {
        Pending::ready(Ok(self.room.peer_ids()))
    }
}
