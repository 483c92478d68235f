//! The traits an adapter implements. Handlers never need this module.
//!
//! An adapter does the IO for one runtime: it accepts connections, calls the
//! [`Handler`] hooks, and implements [`PeerTransport`] (what a
//! [`Peer`] does) and [`HubTransport`] (what a [`Hub`](crate::Hub) does).

use crate::{
    BoxFuture, CloseFrame, Delivery, Error, Handler, MaybeSend, MaybeSync, Message, Peer, PeerId,
    Topic,
};

/// One peer's side of an adapter. Methods must not block: they queue IO.
pub trait PeerTransport: MaybeSend + MaybeSync {
    /// Queues `message` for this peer.
    fn send(&self, message: Message) -> Result<(), Error>;
    /// Adds this peer to `topic`'s subscribers.
    fn subscribe(&self, topic: &Topic) -> Result<(), Error>;
    /// Removes this peer from `topic`'s subscribers.
    fn unsubscribe(&self, topic: &Topic) -> Result<(), Error>;
    /// Delivers `message` to every subscriber of `topic` except this peer.
    fn publish(&self, topic: &Topic, message: Message) -> Result<(), Error>;
    /// Starts closing the connection with `frame`.
    fn close(&self, frame: CloseFrame);
}

/// What a [`Hub`](crate::Hub) asks of an adapter.
pub trait HubTransport: MaybeSend + MaybeSync {
    /// Delivers `message` to `topic`'s subscribers, skipping `exclude`.
    fn publish(
        &self,
        topic: Topic,
        message: Message,
        exclude: Option<PeerId>,
    ) -> BoxFuture<'_, Result<Delivery, Error>>;
    /// Delivers `message` to every connected peer.
    fn broadcast(&self, message: Message) -> BoxFuture<'_, Result<Delivery, Error>>;
    /// Delivers `message` to one peer; `Ok(false)` when it is not connected.
    fn send_to(&self, peer: PeerId, message: Message) -> BoxFuture<'_, Result<bool, Error>>;
    /// The connected peers, where the runtime can list them.
    fn peers(&self) -> BoxFuture<'_, Result<Vec<PeerId>, Error>>;
}

/// Decides whether a peer may subscribe to a topic. Every [`Handler`]
/// is one (through [`Handler::authorize_subscribe`]).
pub trait SubscribePolicy<C>: MaybeSend + MaybeSync {
    /// Whether `peer` may subscribe to `topic`.
    fn allows(&self, peer: &Peer<C>, topic: &Topic) -> bool;
}

impl<H: Handler> SubscribePolicy<H::Context> for H {
    fn allows(&self, peer: &Peer<H::Context>, topic: &Topic) -> bool {
        self.authorize_subscribe(peer, topic)
    }
}

/// A policy that allows every subscription (for tests and tools).
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl<C> SubscribePolicy<C> for AllowAll {
    fn allows(&self, _: &Peer<C>, _: &Topic) -> bool {
        true
    }
}
