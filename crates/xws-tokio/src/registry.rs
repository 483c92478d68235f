//! The local topic table: who is connected, who listens to what, and the
//! fan-out of publications (with forwarding to a cross-node broker).

use bytes::Bytes;
use parking_lot::RwLock;
use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, Ordering},
    },
};
use xws::{
    Delivery, Error, Message, PeerId, Pending, Topic,
    adapter::{Broker, Envelope, HubTransport, NodeId, Target},
    sse,
};

use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::link::{Frame, LinkKind, PeerLink, to_websocket};

type Subscribers = HashMap<PeerId, Arc<PeerLink>>;

/// Peers and topics of one server process.
pub(crate) struct Registry {
    node: NodeId,
    /// `Limits::max_topics_per_peer`.
    max_topics: usize,
    next_peer: AtomicU64,
    next_event: AtomicU64,
    peers: RwLock<Subscribers>,
    topics: RwLock<HashMap<Topic, Subscribers>>,
    broker: OnceLock<Arc<dyn Broker>>,
}

impl Registry {
    pub(crate) fn new(max_topics_per_peer: usize) -> Self {
        // A random node id without a dependency: std seeds RandomState from
        // the OS for every new instance.
        let node = NodeId(RandomState::new().hash_one(std::process::id()));
        Self {
            node,
            max_topics: max_topics_per_peer,
            next_peer: AtomicU64::new(1),
            next_event: AtomicU64::new(1),
            peers: RwLock::default(),
            topics: RwLock::default(),
            broker: OnceLock::new(),
        }
    }

    pub(crate) fn node(&self) -> NodeId {
        self.node
    }

    /// Attaches the cross-node broker; returns false if one was attached.
    pub(crate) fn set_broker(&self, broker: Arc<dyn Broker>) -> bool {
        self.broker.set(broker).is_ok()
    }

    /// A peer id unique across nodes: this node's id and a counter.
    pub(crate) fn new_peer_id(&self) -> PeerId {
        let n = self.next_peer.fetch_add(1, Ordering::Relaxed);
        PeerId::new(format!("{}-{n:x}", self.node))
    }

    /// Lists a connected WebSocket peer (SSE streams only join topics).
    pub(crate) fn insert(&self, link: &Arc<PeerLink>) {
        self.peers.write().insert(link.id.clone(), Arc::clone(link));
    }

    /// Forgets a peer and its subscriptions. The table's write lock is taken
    /// once per topic, so publications to other topics go on meanwhile.
    pub(crate) fn remove(&self, id: &PeerId, topics: &[Topic]) {
        self.peers.write().remove(id);
        for topic in topics {
            self.leave(topic, id);
        }
    }

    /// Adds `link` to `topic`'s subscribers, unless the peer is subscribed
    /// to `max_topics_per_peer` topics already. The peer calls it once per
    /// new topic (`Peer::subscribe` skips topics it has).
    pub(crate) fn subscribe(&self, topic: &Topic, link: &Arc<PeerLink>) -> Result<(), Error> {
        let limit = self.max_topics;
        if link
            .topics
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            })
            .is_err()
        {
            tracing::debug!(peer = %link.id, limit, "topic limit reached; subscription refused");
            return Err(Error::TooManyTopics { limit });
        }
        self.topics
            .write()
            .entry(topic.clone())
            .or_default()
            .insert(link.id.clone(), Arc::clone(link));
        Ok(())
    }

    pub(crate) fn unsubscribe(&self, topic: &Topic, link: &PeerLink) {
        if self.leave(topic, &link.id) {
            link.topics.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Removes `id` from `topic`; whether it was there.
    fn leave(&self, topic: &Topic, id: &PeerId) -> bool {
        let mut table = self.topics.write();
        let Some(subscribers) = table.get_mut(topic) else {
            return false;
        };
        let was_there = subscribers.remove(id).is_some();
        if subscribers.is_empty() {
            table.remove(topic);
        }
        was_there
    }

    /// Number of listed peers.
    pub(crate) fn peer_count(&self) -> usize {
        self.peers.read().len()
    }

    /// Number of topics with at least one local subscriber.
    pub(crate) fn topic_count(&self) -> usize {
        self.topics.read().len()
    }

    /// Publishes locally and to the other nodes.
    pub(crate) fn publish(
        &self,
        topic: &Topic,
        message: Message,
        exclude: Option<&PeerId>,
    ) -> usize {
        let delivered = self.deliver_topic(topic, &message, exclude);
        self.forward(
            Target::Topic {
                topic: topic.clone(),
                exclude: exclude.cloned(),
            },
            message,
        );
        delivered
    }

    /// Sends to every listed peer, here and on the other nodes.
    pub(crate) fn broadcast(&self, message: Message) -> usize {
        let delivered = self.deliver_broadcast(&message);
        self.forward(Target::Broadcast, message);
        delivered
    }

    /// Sends to one peer, wherever it is connected. Returns whether it is
    /// connected here; if not, the broker (when there is one) carries it.
    pub(crate) fn send_to(&self, peer: &PeerId, message: Message) -> bool {
        if self.deliver_to(peer, message.clone()) {
            return true;
        }
        self.forward(Target::Peer(peer.clone()), message);
        false
    }

    /// Delivers an envelope that arrived from another node.
    pub(crate) fn deliver(&self, envelope: Envelope) {
        if envelope.origin == self.node {
            return;
        }
        match envelope.target {
            Target::Topic { topic, exclude } => {
                self.deliver_topic(&topic, &envelope.message, exclude.as_ref());
            }
            Target::Broadcast => {
                self.deliver_broadcast(&envelope.message);
            }
            Target::Peer(peer) => {
                self.deliver_to(&peer, envelope.message);
            }
        }
    }

    fn forward(&self, target: Target, message: Message) {
        if let Some(broker) = self.broker.get() {
            broker.forward(&Envelope {
                origin: self.node,
                target,
                message,
            });
        }
    }

    fn deliver_topic(&self, topic: &Topic, message: &Message, exclude: Option<&PeerId>) -> usize {
        let table = self.topics.read();
        let Some(subscribers) = table.get(topic) else {
            return 0;
        };
        // WebSocket peers share one conversion, SSE streams one encoding.
        let mut websocket: Option<Option<WsMessage>> = None;
        let mut sse_event: Option<Bytes> = None;
        let mut delivered = 0;
        for (id, link) in subscribers {
            if Some(id) == exclude {
                continue;
            }
            let frame = match link.kind {
                LinkKind::WebSocket => websocket_frame(&mut websocket, message),
                LinkKind::Fallback => Frame::Message(message.clone()),
                LinkKind::Sse => Frame::Encoded(
                    sse_event
                        .get_or_insert_with(|| {
                            let id = self.next_event.fetch_add(1, Ordering::Relaxed);
                            sse::encode_message(id, message)
                        })
                        .clone(),
                ),
            };
            if link.push(frame).is_ok() {
                delivered += 1;
            }
        }
        delivered
    }

    fn deliver_broadcast(&self, message: &Message) -> usize {
        let mut websocket = None;
        self.peers
            .read()
            .values()
            .filter(|link| {
                let frame = match link.kind {
                    LinkKind::WebSocket => websocket_frame(&mut websocket, message),
                    _ => Frame::Message(message.clone()),
                };
                link.push(frame).is_ok()
            })
            .count()
    }

    fn deliver_to(&self, peer: &PeerId, message: Message) -> bool {
        let link = self.peers.read().get(peer).cloned();
        link.is_some_and(|link| link.push(Frame::Message(message)).is_ok())
    }

    fn peer_ids(&self) -> Vec<PeerId> {
        self.peers.read().keys().cloned().collect()
    }
}

/// The frame for a WebSocket subscriber: the publication converted once.
fn websocket_frame(converted: &mut Option<Option<WsMessage>>, message: &Message) -> Frame {
    match converted.get_or_insert_with(|| to_websocket(message)) {
        Some(ws) => Frame::WebSocket(ws.clone()),
        None => Frame::Message(message.clone()),
    }
}

/// The [`xws::Hub`] of a Tokio server publishes straight into the registry.
impl HubTransport for Registry {
    // Every operation is in memory (a broker forward only queues), so each
    // completes while it is called.
    fn publish(
        &self,
        topic: Topic,
        message: Message,
        exclude: Option<PeerId>,
    ) -> Pending<Delivery> {
        let delivered = Registry::publish(self, &topic, message, exclude.as_ref());
        Pending::ready(Ok(Delivery { delivered }))
    }

    fn broadcast(&self, message: Message) -> Pending<Delivery> {
        let delivered = Registry::broadcast(self, message);
        Pending::ready(Ok(Delivery { delivered }))
    }

    fn send_to(&self, peer: PeerId, message: Message) -> Pending<bool> {
        Pending::ready(Ok(Registry::send_to(self, &peer, message)))
    }

    fn peers(&self) -> Pending<Vec<PeerId>> {
        Pending::ready(Ok(self.peer_ids()))
    }
}
