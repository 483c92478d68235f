//! The object's peer table: rebuilt from socket attachments after the
//! object wakes from hibernation, before any event is handled.

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    rc::Rc,
    sync::Arc,
};

use serde::{Serialize, de::DeserializeOwned};
use worker::{State, WebSocket};
use xws::{
    Error, Message, Peer, PeerId, Topic,
    adapter::{PeerSnapshot, SubscribePolicy},
};

use crate::{attachment, transport::SocketTransport};

/// Ids of SSE streams start with this. A stream is a hibernatable socket
/// from the Worker that serves it, so it survives hibernation like any peer,
/// but it only receives publications: no hooks, no broadcasts.
pub const STREAM_PREFIX: &str = "sse-";

/// Whether `peer` is an SSE stream.
pub fn is_stream<C>(peer: &Peer<C>) -> bool {
    peer.id().as_str().starts_with(STREAM_PREFIX)
}

/// A peer and its socket.
struct Member<C> {
    peer: Peer<C>,
    socket: WebSocket,
}

/// The peers of one Durable Object instance.
pub struct Room<C> {
    state: State,
    policy: Arc<dyn SubscribePolicy<C>>,
    members: RefCell<HashMap<PeerId, Member<C>>>,
    loaded: Cell<bool>,
    restored: Cell<usize>,
}

impl<C> Room<C>
where
    C: Serialize + DeserializeOwned + Clone + 'static,
{
    /// An empty table; [`Room::ensure_loaded`] fills it from the runtime.
    pub fn new(state: State, policy: Arc<dyn SubscribePolicy<C>>) -> Rc<Self> {
        Rc::new(Self {
            state,
            policy,
            members: RefCell::default(),
            loaded: Cell::new(false),
            restored: Cell::new(0),
        })
    }

    /// The object's state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The subscribe policy (the handler).
    pub fn policy(&self) -> Arc<dyn SubscribePolicy<C>> {
        Arc::clone(&self.policy)
    }

    /// Peers restored from attachments by this instance.
    pub fn restored(&self) -> usize {
        self.restored.get()
    }

    /// Peers (sockets and SSE streams) this instance holds in memory.
    pub fn len(&self) -> usize {
        self.members.borrow().len()
    }

    /// Restores every hibernated socket's peer, once per instance.
    pub fn ensure_loaded(self: &Rc<Self>) {
        if self.loaded.replace(true) {
            return;
        }
        for socket in self.state.get_websockets() {
            match attachment::load::<C>(&socket) {
                Ok(Some(snapshot)) => {
                    self.restore(snapshot, socket);
                    self.restored.set(self.restored.get() + 1);
                }
                Ok(None) => tracing::warn!("a socket without xws state is ignored"),
                Err(error) => {
                    tracing::error!(%error, "cannot restore a peer; closing its socket");
                    let _ = socket.close(Some(1011), Some("peer state lost"));
                }
            }
        }
    }

    /// The socket's peer, restoring it if this instance has not seen it.
    pub fn peer_for(self: &Rc<Self>, socket: &WebSocket) -> Result<Option<Peer<C>>, Error> {
        self.ensure_loaded();
        let Some(id) = attachment::peer_id(socket)? else {
            return Ok(None);
        };
        if let Some(member) = self.members.borrow().get(&id) {
            return Ok(Some(member.peer.clone()));
        }
        Ok(attachment::load::<C>(socket)?.map(|snapshot| self.restore(snapshot, socket.clone())))
    }

    fn restore(self: &Rc<Self>, snapshot: PeerSnapshot<C>, socket: WebSocket) -> Peer<C> {
        let transport = SocketTransport {
            id: snapshot.id.clone(),
            socket: socket.clone(),
            room: Rc::downgrade(self),
        };
        let peer = xws::adapter::restore_peer(snapshot, Box::new(transport), self.policy());
        self.insert(peer.clone(), socket);
        peer
    }

    /// Adds a peer.
    pub fn insert(&self, peer: Peer<C>, socket: WebSocket) {
        self.members
            .borrow_mut()
            .insert(peer.id().clone(), Member { peer, socket });
    }

    /// Removes a peer.
    pub fn remove(&self, id: &PeerId) {
        self.members.borrow_mut().remove(id);
    }

    /// Stores the peer's state on its socket if a hook changed it.
    pub fn persist(&self, peer: &Peer<C>) -> Result<(), Error> {
        if !xws::adapter::take_changed(peer) {
            return Ok(());
        }
        let members = self.members.borrow();
        match members.get(peer.id()) {
            Some(member) => attachment::store(&member.socket, &xws::adapter::snapshot(peer)),
            None => Ok(()),
        }
    }

    /// Sends `message` to `topic`'s subscribers except `exclude`.
    pub fn publish(
        self: &Rc<Self>,
        topic: &Topic,
        message: &Message,
        exclude: Option<&PeerId>,
    ) -> usize {
        self.deliver(
            message,
            |peer| Some(peer.id()) != exclude && peer.is_subscribed(topic.as_str()),
            false,
        )
    }

    /// Sends `message` to every WebSocket peer (SSE streams get topics only).
    pub fn broadcast(self: &Rc<Self>, message: &Message) -> usize {
        self.deliver(message, |_| true, true)
    }

    /// Sends `message` to one peer.
    pub fn send_to(self: &Rc<Self>, id: &PeerId, message: &Message) -> bool {
        self.deliver(message, |peer| peer.id() == id, false) > 0
    }

    /// The WebSocket peers.
    pub fn peer_ids(self: &Rc<Self>) -> Vec<PeerId> {
        self.ensure_loaded();
        self.members
            .borrow()
            .values()
            .filter(|m| !is_stream(&m.peer))
            .map(|m| m.peer.id().clone())
            .collect()
    }

    /// Hands `message` to the matching peers; one failed peer never stops
    /// the fan-out.
    fn deliver(
        self: &Rc<Self>,
        message: &Message,
        wanted: impl Fn(&Peer<C>) -> bool,
        sockets_only: bool,
    ) -> usize {
        self.ensure_loaded();
        // Collected first: sending must not hold the table borrowed.
        let targets: Vec<Peer<C>> = self
            .members
            .borrow()
            .values()
            .filter(|m| (!sockets_only || !is_stream(&m.peer)) && wanted(&m.peer))
            .map(|m| m.peer.clone())
            .collect();
        let mut delivered = 0;
        for peer in targets {
            match peer.send(message.clone()) {
                Ok(()) => delivered += 1,
                // A closing socket; its close event removes the peer.
                Err(error) => tracing::debug!(peer = %peer.id(), %error, "delivery failed"),
            }
        }
        delivered
    }
}
