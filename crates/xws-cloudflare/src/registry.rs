//! The object's peer table: every socket it holds, by peer id, and a topic
//! index (topic → subscribers' sockets), so a publication goes straight to
//! the sockets that want it. Rebuilt from socket attachments after the
//! object wakes from hibernation, before any event is handled.

use std::{
    cell::RefCell,
    collections::{BTreeSet, HashMap},
};

use serde::{Deserialize, Serialize};
use worker::{State, WebSocket};
use xws::{Delivery, Error, Message, PeerId, Pending, Topic, adapter::HubTransport};

/// What a socket of the object carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerKind {
    /// A client's WebSocket: a full peer with hooks.
    #[default]
    WebSocket,
    /// The Worker's socket behind one SSE stream: it only receives the
    /// publications of its topics (no hooks, no broadcasts, not listed).
    Sse,
}

/// One socket of the object.
struct Link {
    socket: WebSocket,
    kind: PeerKind,
    topics: BTreeSet<Topic>,
}

/// The peers of one Durable Object instance.
pub struct Registry {
    state: State,
    peers: RefCell<HashMap<PeerId, Link>>,
    topics: RefCell<HashMap<Topic, HashMap<PeerId, WebSocket>>>,
}

impl Registry {
    /// An empty table for the object with `state`.
    pub fn new(state: State) -> Self {
        Self {
            state,
            peers: RefCell::default(),
            topics: RefCell::default(),
        }
    }

    /// The object's state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Peers (sockets and SSE streams) this instance holds in memory.
    pub fn len(&self) -> usize {
        self.peers.borrow().len()
    }

    /// Adds a peer already subscribed to `topics` (none for a new one; the
    /// stored ones for a peer restored after hibernation).
    pub fn insert(&self, id: PeerId, socket: WebSocket, kind: PeerKind, topics: BTreeSet<Topic>) {
        {
            let mut index = self.topics.borrow_mut();
            for topic in &topics {
                index
                    .entry(topic.clone())
                    .or_default()
                    .insert(id.clone(), socket.clone());
            }
        }
        let link = Link {
            socket,
            kind,
            topics,
        };
        self.peers.borrow_mut().insert(id, link);
    }

    /// Forgets a peer and its subscriptions.
    pub fn remove(&self, id: &PeerId) {
        let Some(link) = self.peers.borrow_mut().remove(id) else {
            return;
        };
        let mut index = self.topics.borrow_mut();
        for topic in &link.topics {
            unindex(&mut index, topic, id);
        }
    }

    /// Adds peer `id` to `topic`'s subscribers.
    pub fn subscribe(&self, id: &PeerId, topic: &Topic) {
        let mut peers = self.peers.borrow_mut();
        let Some(link) = peers.get_mut(id) else {
            return;
        };
        if link.topics.insert(topic.clone()) {
            self.topics
                .borrow_mut()
                .entry(topic.clone())
                .or_default()
                .insert(id.clone(), link.socket.clone());
        }
    }

    /// Removes peer `id` from `topic`'s subscribers.
    pub fn unsubscribe(&self, id: &PeerId, topic: &Topic) {
        if let Some(link) = self.peers.borrow_mut().get_mut(id)
            && link.topics.remove(topic)
        {
            unindex(&mut self.topics.borrow_mut(), topic, id);
        }
    }

    /// Sends `message` to `topic`'s subscribers except `exclude`; one
    /// failed socket never stops the fan-out.
    pub fn publish(&self, topic: &Topic, message: &Message, exclude: Option<&PeerId>) -> usize {
        let index = self.topics.borrow();
        let Some(subscribers) = index.get(topic) else {
            return 0;
        };
        let count = subscribers
            .iter()
            .filter(|(id, _)| Some(*id) != exclude)
            .filter(|(id, socket)| delivered(id, send(socket, message)))
            .count();
        xws::metrics::delivered_untimed(topic.as_str(), count);
        xws::metrics::messages_out(count as u64, count * message.len());
        count
    }

    /// Sends `message` to every WebSocket peer (SSE streams get topics only).
    pub fn broadcast(&self, message: &Message) -> usize {
        let count = self
            .peers
            .borrow()
            .iter()
            .filter(|(_, link)| link.kind == PeerKind::WebSocket)
            .filter(|(id, link)| delivered(id, send(&link.socket, message)))
            .count();
        xws::metrics::delivered_untimed(xws::metrics::BROADCAST_PATTERN, count);
        xws::metrics::messages_out(count as u64, count * message.len());
        count
    }

    /// Sends `message` to one WebSocket peer; false when it is not here.
    pub fn send_to(&self, id: &PeerId, message: &Message) -> bool {
        let peers = self.peers.borrow();
        peers
            .get(id)
            .filter(|link| link.kind == PeerKind::WebSocket)
            .is_some_and(|link| delivered(id, send(&link.socket, message)))
    }

    /// Every topic with its number of subscribers.
    pub fn topic_counts(&self) -> Vec<(Topic, usize)> {
        self.topics
            .borrow()
            .iter()
            .map(|(topic, subscribers)| (topic.clone(), subscribers.len()))
            .collect()
    }

    /// Whether peer `id` follows `topic`.
    pub fn is_subscribed(&self, id: &PeerId, topic: &Topic) -> bool {
        self.topics
            .borrow()
            .get(topic)
            .is_some_and(|subscribers| subscribers.contains_key(id))
    }

    /// The WebSocket peers.
    pub fn peer_ids(&self) -> Vec<PeerId> {
        self.peers
            .borrow()
            .iter()
            .filter(|(_, link)| link.kind == PeerKind::WebSocket)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

fn unindex(index: &mut HashMap<Topic, HashMap<PeerId, WebSocket>>, topic: &Topic, id: &PeerId) {
    if let Some(subscribers) = index.get_mut(topic) {
        subscribers.remove(id);
        if subscribers.is_empty() {
            index.remove(topic);
        }
    }
}

/// Writes `message` on `socket`.
pub fn send(socket: &WebSocket, message: &Message) -> Result<(), Error> {
    let sent = match message {
        Message::Text(text) => socket.send_with_str(text.as_str()),
        Message::Binary(bytes) => socket.send_with_bytes(bytes),
    };
    sent.map_err(|_| Error::PeerClosed)
}

/// Whether a fan-out send reached its peer. A closing socket fails; its
/// close event removes the peer.
fn delivered(id: &PeerId, sent: Result<(), Error>) -> bool {
    if let Err(error) = &sent {
        tracing::debug!(peer = %id, %error, "delivery failed");
    }
    sent.is_ok()
}

/// The [`xws::Hub`] of code running inside the object (its own routes, its
/// `alarm`, work it started) publishes straight into the table.
impl HubTransport for Registry {
    // The object's peers are in memory: each operation completes at once.
    fn publish(
        &self,
        topic: Topic,
        message: Message,
        exclude: Option<PeerId>,
    ) -> Pending<Delivery> {
        let delivered = Registry::publish(self, &topic, &message, exclude.as_ref());
        Pending::ready(Ok(Delivery { delivered }))
    }

    fn broadcast(&self, message: Message) -> Pending<Delivery> {
        let delivered = Registry::broadcast(self, &message);
        Pending::ready(Ok(Delivery { delivered }))
    }

    fn send_to(&self, peer: PeerId, message: Message) -> Pending<bool> {
        Pending::ready(Ok(Registry::send_to(self, &peer, &message)))
    }

    fn peers(&self) -> Pending<Vec<PeerId>> {
        Pending::ready(Ok(self.peer_ids()))
    }
}
