//! What an adapter author needs; handlers never use this module.
//!
//! An adapter does the IO for one runtime. It turns the runtime's events
//! into calls on a [`Session`], which applies the hook rules (limits, the
//! app ping, errors and panics, persistence) the same way everywhere, and
//! it implements [`PeerTransport`] (what a [`Peer`] does) and
//! [`HubTransport`] (what a [`Hub`](crate::Hub) does). Adapters that span
//! processes carry publications between them as [`Envelope`]s through a
//! [`Broker`].
//!
//! Handler authors use the crate root; nothing here is needed to write a
//! handler, and the peer operations that would break an adapter's
//! invariants (creating a peer, clearing its changed flag) live here
//! rather than on [`Peer`].

mod broker;
mod guard;
mod rate_limit;
mod session;

use std::{collections::BTreeSet, sync::Arc};

pub use crate::peer::PeerSnapshot;
pub use broker::{Broker, Deliver, Envelope, NodeId, Target};
pub use rate_limit::{RateDecision, RateLimiter};
pub use session::{Outcome, Session, SessionConfig, decide_upgrade};

use crate::{
    CloseFrame, Delivery, Error, Handler, MaybeSend, MaybeSync, Message, Peer, PeerId, Pending,
    RequestInfo, Topic,
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

/// What a [`Hub`](crate::Hub) asks of an adapter. Each operation starts
/// when called (in memory, or spawned on the runtime) and returns a
/// [`Pending`] result, so a caller that drops it loses nothing.
pub trait HubTransport: MaybeSend + MaybeSync {
    /// Delivers `message` to `topic`'s subscribers, skipping `exclude`.
    fn publish(&self, topic: Topic, message: Message, exclude: Option<PeerId>)
    -> Pending<Delivery>;
    /// Delivers `message` to every connected peer.
    fn broadcast(&self, message: Message) -> Pending<Delivery>;
    /// Delivers `message` to one peer; `Ok(false)` when it is not connected.
    fn send_to(&self, peer: PeerId, message: Message) -> Pending<bool>;
    /// The connected peers, where the runtime can list them.
    fn peers(&self) -> Pending<Vec<PeerId>>;
}

/// What the handler decides about a peer's own operations: which topics
/// it may join and publish to, and what it keeps of its request. Every
/// [`Handler`] is one (through [`Handler::authorize_subscribe`],
/// [`Handler::authorize_publish`] and [`Handler::kept_request`]); the
/// core [`Peer`] applies it, so every adapter enforces the same rules.
pub trait PeerPolicy<C>: MaybeSend + MaybeSync {
    /// Whether `peer` may subscribe to `topic`.
    fn may_subscribe(&self, peer: &Peer<C>, topic: &Topic) -> bool;
    /// Whether `peer` may publish to `topic`.
    fn may_publish(&self, peer: &Peer<C>, topic: &Topic) -> bool;
    /// What a new peer keeps of the request that opened it.
    fn keep_request(&self, request: &RequestInfo) -> RequestInfo;
}

impl<H: Handler> PeerPolicy<H::Context> for H {
    fn may_subscribe(&self, peer: &Peer<H::Context>, topic: &Topic) -> bool {
        self.authorize_subscribe(peer, topic)
    }

    fn may_publish(&self, peer: &Peer<H::Context>, topic: &Topic) -> bool {
        self.authorize_publish(peer, topic)
    }

    fn keep_request(&self, request: &RequestInfo) -> RequestInfo {
        self.kept_request(request)
    }
}

/// Creates a peer that has just been accepted, with no topics. It keeps
/// what `policy` keeps of `request` ([`Handler::kept_request`]): the
/// `upgrade` hook saw the whole request, later hooks and stored
/// snapshots see only that. It may hold `max_topics` topics
/// ([`Limits::max_topics_per_peer`](crate::Limits::max_topics_per_peer)).
pub fn new_peer<C>(
    id: PeerId,
    request: RequestInfo,
    context: C,
    transport: Box<dyn PeerTransport>,
    policy: Arc<dyn PeerPolicy<C>>,
    max_topics: usize,
) -> Peer<C> {
    let request = policy.keep_request(&request);
    Peer::build(
        id,
        request,
        context,
        BTreeSet::new(),
        transport,
        policy,
        max_topics,
    )
}

/// Rebuilds a stored peer around a transport (after hibernation, or in a
/// new invocation); the transport is not told to subscribe again. A peer
/// stored with more than `max_topics` topics keeps them and joins no more.
pub fn restore_peer<C>(
    snapshot: PeerSnapshot<C>,
    transport: Box<dyn PeerTransport>,
    policy: Arc<dyn PeerPolicy<C>>,
    max_topics: usize,
) -> Peer<C> {
    let PeerSnapshot {
        id,
        request,
        context,
        topics,
    } = snapshot;
    Peer::build(id, request, context, topics, transport, policy, max_topics)
}

/// The peer's state as it is stored: id, request, context, topics.
pub fn snapshot<C: Clone>(peer: &Peer<C>) -> PeerSnapshot<C> {
    peer.snapshot()
}

/// Whether the peer's context or topics changed since the last call, and
/// clears the flag. [`Session`] calls it after every hook; an adapter calls
/// it only for peers it drives without a session (SSE streams).
pub fn take_changed<C>(peer: &Peer<C>) -> bool {
    peer.take_changed()
}
