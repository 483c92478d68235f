//! What an adapter gives a peer so it can use streams.

use std::{fmt, sync::Arc};

use crate::{BoxFuture, Error, MaybeSend, MaybeSync, Message, Peer, Topic};

use super::{HistoryPage, Member, Position, SubscribeOptions};

/// A peer's side of an adapter's streams, attached to the peer with
/// [`attach`]. Like [`PeerTransport`](crate::adapter::PeerTransport), its
/// synchronous methods queue IO and never block.
pub trait PeerStreams: MaybeSend + MaybeSync {
    /// Whether `topic` keeps history: publications to it then go through
    /// [`publish`](Self::publish).
    fn keeps_history(&self, topic: &Topic) -> bool;

    /// Queues `message` to be appended to `topic`'s history and delivered,
    /// with its position, to every subscriber but this peer. A peer's
    /// publications keep their order.
    fn publish(&self, topic: &Topic, message: Message) -> Result<(), Error>;

    /// Prepares a subscription as the options say (see
    /// [`recovery`](super::recover) for the steps). Nothing reaches the
    /// peer from the topic until the returned [`Subscription`] starts.
    fn subscribe(
        &self,
        topic: &Topic,
        options: SubscribeOptions,
    ) -> BoxFuture<'_, Result<Subscription, Error>>;

    /// The newest `limit` publications of `topic`, oldest first, with the
    /// stream's position.
    fn history(&self, topic: &Topic, limit: usize) -> BoxFuture<'_, Result<HistoryPage, Error>>;

    /// The members of `topic`'s presence.
    fn members(&self, topic: &Topic) -> BoxFuture<'_, Result<Vec<Member>, Error>>;

    /// How many members `topic` has.
    fn member_count(&self, topic: &Topic) -> BoxFuture<'_, Result<usize, Error>>;
}

/// Gives `peer` an adapter's streams. Adapters call it once, right after
/// creating the peer; without it, [`Peer::subscribe_with`] and the other
/// stream methods answer [`Error::Unsupported`].
pub fn attach<C>(peer: &Peer<C>, streams: Arc<dyn PeerStreams>) {
    peer.attach_streams(streams);
}

/// Starts live delivery of a prepared subscription: its replay first,
/// then everything published after it.
pub trait StartLive: MaybeSend {
    /// Delivers the replay and goes live.
    fn start(self: Box<Self>);
}

/// A subscription made by [`Peer::subscribe_with`], not yet delivering.
///
/// Tell the client what it is getting (its [`position`](Self::position),
/// whether it [`recovered`](Self::recovered)), then
/// [`start`](Self::start) it (dropping it starts it too): the replayed
/// publications follow whatever was sent before, then live ones, with
/// nothing missed and nothing twice in between.
#[must_use = "a subscription delivers once started (or dropped)"]
pub struct Subscription {
    position: Option<Position>,
    recovered: Option<bool>,
    replayed: usize,
    start: Option<Box<dyn StartLive>>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("position", &self.position)
            .field("recovered", &self.recovered)
            .field("replayed", &self.replayed)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// A prepared subscription; adapters build it. `start` runs when it
    /// starts (`None`: it is live already).
    pub fn new(
        position: Option<Position>,
        recovered: Option<bool>,
        replayed: usize,
        start: Option<Box<dyn StartLive>>,
    ) -> Self {
        Self {
            position,
            recovered,
            replayed,
            start,
        }
    }

    /// The topic's position when the subscription was made; `None` for
    /// a topic without history.
    pub fn position(&self) -> Option<&Position> {
        self.position.as_ref()
    }

    /// With `since`: whether every publication after it is replayed.
    /// `Some(false)`: they are not (another epoch, trimmed history), so the
    /// app must refetch its state.
    pub fn recovered(&self) -> Option<bool> {
        self.recovered
    }

    /// How many publications are replayed before live ones (captured
    /// live ones not counted).
    pub fn replayed(&self) -> usize {
        self.replayed
    }

    /// Delivers the replay, then live publications.
    pub fn start(mut self) {
        self.begin();
    }

    fn begin(&mut self) {
        if let Some(start) = self.start.take() {
            start.start();
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.begin();
    }
}
