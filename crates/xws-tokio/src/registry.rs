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
    stream::Publication,
};

use crate::{
    link::{Frame, LinkKind, PeerLink, SharedFrames},
    streams::Engine,
};

type Peers = HashMap<PeerId, Arc<PeerLink>>;

/// A topic's subscribers on this node, and how many of them asked for its
/// join and leave events: a topic where none did skips them at once
/// (looking through every member for each join made joining a room of N
/// members O(N), filling it O(N^2): 10,000 members took seconds of CPU).
#[derive(Default)]
struct Subscribers {
    members: HashMap<PeerId, Subscriber>,
    presence_listeners: usize,
}

impl Subscribers {
    fn insert(&mut self, id: PeerId, subscriber: Subscriber) {
        self.presence_listeners += usize::from(subscriber.presence_events);
        if let Some(replaced) = self.members.insert(id, subscriber) {
            self.presence_listeners -= usize::from(replaced.presence_events);
        }
    }

    fn remove(&mut self, id: &PeerId) -> bool {
        let Some(removed) = self.members.remove(id) else {
            return false;
        };
        self.presence_listeners -= usize::from(removed.presence_events);
        true
    }
}

impl std::ops::Deref for Subscribers {
    type Target = HashMap<PeerId, Subscriber>;

    fn deref(&self) -> &Self::Target {
        &self.members
    }
}

impl<'a> IntoIterator for &'a Subscribers {
    type Item = (&'a PeerId, &'a Subscriber);
    type IntoIter = std::collections::hash_map::Iter<'a, PeerId, Subscriber>;

    fn into_iter(self) -> Self::IntoIter {
        self.members.iter()
    }
}

/// One peer's subscription to one topic.
struct Subscriber {
    link: Arc<PeerLink>,
    /// The watermark: the highest stream offset this subscriber has.
    /// Positioned publications at or below it are not delivered again
    /// (they came in its replay). 0 for topics without history.
    after: AtomicU64,
    /// Whether it receives the topic's join and leave events.
    presence_events: bool,
}

impl Subscriber {
    fn new(link: &Arc<PeerLink>, after: u64, presence_events: bool) -> Self {
        Self {
            link: Arc::clone(link),
            after: AtomicU64::new(after),
            presence_events,
        }
    }
}

/// Peers and topics of one server process.
pub(crate) struct Registry {
    node: NodeId,
    /// `Limits::max_topics_per_peer`.
    max_topics: usize,
    next_peer: AtomicU64,
    peers: RwLock<Peers>,
    topics: RwLock<HashMap<Topic, Subscribers>>,
    broker: OnceLock<Arc<dyn Broker>>,
    streams: OnceLock<Arc<Engine>>,
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
            peers: RwLock::default(),
            topics: RwLock::default(),
            broker: OnceLock::new(),
            streams: OnceLock::new(),
        }
    }

    pub(crate) fn node(&self) -> NodeId {
        self.node
    }

    /// Attaches the cross-node broker; returns false if one was attached.
    pub(crate) fn set_broker(&self, broker: Arc<dyn Broker>) -> bool {
        self.broker.set(broker).is_ok()
    }

    /// Attaches the stream engine; returns false if one was attached.
    pub(crate) fn set_streams(&self, engine: Arc<Engine>) -> bool {
        self.streams.set(engine).is_ok()
    }

    /// The stream engine, if streams are configured.
    pub(crate) fn streams(&self) -> Option<&Arc<Engine>> {
        self.streams.get()
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

    /// Asks every WebSocket peer to close with `frame` (at shutdown).
    pub(crate) fn close_websockets(&self, frame: &xws::CloseFrame) {
        for link in self.peers.read().values() {
            if link.kind == LinkKind::WebSocket {
                link.request_close(frame.clone());
            }
        }
    }

    /// Forgets a peer and its subscriptions (it left: its presence ends).
    /// The table's write lock is taken once per topic, so publications to
    /// other topics go on meanwhile.
    pub(crate) fn remove(&self, id: &PeerId, topics: &[Topic]) {
        self.peers.write().remove(id);
        for topic in topics {
            self.leave(topic, id);
        }
        if let Some(streams) = self.streams.get() {
            streams.forget(id, topics);
        }
    }

    /// Adds `link` to `topic`'s subscribers, unless the peer is subscribed
    /// to `max_topics_per_peer` topics already. The peer calls it once per
    /// new topic (`Peer::subscribe` skips topics it has).
    pub(crate) fn subscribe(&self, topic: &Topic, link: &Arc<PeerLink>) -> Result<(), Error> {
        self.reserve_topic(link)?;
        self.insert_subscriber(topic, link, 0, false);
        Ok(())
    }

    /// Counts one more topic for the peer, unless it is at the limit.
    pub(crate) fn reserve_topic(&self, link: &PeerLink) -> Result<(), Error> {
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
        Ok(())
    }

    /// Gives back a topic [`reserve_topic`](Self::reserve_topic) counted
    /// for a subscription that never started.
    pub(crate) fn release_topic(&self, link: &PeerLink) {
        link.topics.fetch_sub(1, Ordering::AcqRel);
    }

    /// Adds a subscriber whose topic is counted already, with a watermark
    /// (see [`Subscriber::after`]) and, if asked, the topic's join and
    /// leave events.
    pub(crate) fn insert_subscriber(
        &self,
        topic: &Topic,
        link: &Arc<PeerLink>,
        after: u64,
        presence_events: bool,
    ) {
        self.topics
            .write()
            .entry(topic.clone())
            .or_default()
            .insert(
                link.id.clone(),
                Subscriber::new(link, after, presence_events),
            );
    }

    /// Unsubscribes (the peer's presence in the topic ends).
    pub(crate) fn unsubscribe(&self, topic: &Topic, link: &PeerLink) {
        self.unsubscribe_quietly(topic, link);
        if let Some(streams) = self.streams.get() {
            streams.forget(&link.id, std::slice::from_ref(topic));
        }
    }

    /// Unsubscribes without ending presence: a subscription being replaced.
    pub(crate) fn unsubscribe_quietly(&self, topic: &Topic, link: &PeerLink) {
        if self.leave(topic, &link.id) {
            self.release_topic(link);
        }
    }

    /// Removes `id` from `topic`; whether it was there.
    fn leave(&self, topic: &Topic, id: &PeerId) -> bool {
        let mut table = self.topics.write();
        let Some(subscribers) = table.get_mut(topic) else {
            return false;
        };
        let was_there = subscribers.remove(id);
        if subscribers.is_empty() {
            table.remove(topic);
        }
        was_there
    }

    /// Whether a subscriber of `topic` on this node asked for its join and
    /// leave events.
    pub(crate) fn has_presence_listeners(&self, topic: &Topic) -> bool {
        self.topics
            .read()
            .get(topic)
            .is_some_and(|subscribers| subscribers.presence_listeners > 0)
    }

    /// Whether `topic` has a subscriber on this node.
    pub(crate) fn has_subscribers(&self, topic: &Topic) -> bool {
        self.topics.read().contains_key(topic)
    }

    /// Every topic with local subscribers, and how many (WebSocket,
    /// fallback and SSE alike).
    pub(crate) fn subscriber_counts(&self) -> Vec<(Topic, usize)> {
        self.topics
            .read()
            .iter()
            .map(|(topic, subscribers)| (topic.clone(), subscribers.len()))
            .collect()
    }

    /// The link of a listed peer connected here.
    pub(crate) fn link(&self, peer: &PeerId) -> Option<Arc<PeerLink>> {
        self.peers.read().get(peer).cloned()
    }

    /// Subscribers of `topic` on this node.
    pub(crate) fn subscriber_count(&self, topic: &Topic) -> usize {
        self.topics
            .read()
            .get(topic)
            .map_or(0, |subscribers| subscribers.len())
    }

    /// The stream of `topic` started over in a new epoch: every
    /// subscriber's watermark goes back to 0.
    pub(crate) fn reset_watermarks(&self, topic: &Topic) {
        if let Some(subscribers) = self.topics.read().get(topic) {
            for subscriber in subscribers.values() {
                subscriber.after.store(0, Ordering::Release);
            }
        }
    }

    /// Delivers a publication with its position to `topic`'s subscribers
    /// on this node, skipping `exclude` and those that have it already.
    /// Called in offset order per topic (the stream engine sees to it).
    pub(crate) fn deliver_publication(
        &self,
        topic: &Topic,
        publication: &Publication,
        exclude: Option<&PeerId>,
    ) -> usize {
        let started = std::time::Instant::now();
        let table = self.topics.read();
        let Some(subscribers) = table.get(topic) else {
            return 0;
        };
        let offset = publication.offset();
        let message = publication.to_message();
        let mut websocket = SharedFrames::default();
        let mut sse_event: Option<Bytes> = None;
        let mut delivered = 0;
        for (id, subscriber) in subscribers {
            if Some(id) == exclude || subscriber.after.fetch_max(offset, Ordering::AcqRel) >= offset
            {
                continue;
            }
            let link = &subscriber.link;
            let frame = match link.kind {
                LinkKind::WebSocket => websocket.frame_for(link, &message),
                LinkKind::Fallback => Frame::Message(message.clone()),
                LinkKind::Sse => Frame::Encoded(
                    sse_event
                        .get_or_insert_with(|| publication.to_sse())
                        .clone(),
                ),
            };
            if link.push(frame).is_ok() {
                delivered += 1;
            }
        }
        count_fan_out(topic.as_str(), delivered, message.len(), started);
        delivered
    }

    /// Delivers a join or leave event to the subscribers of `topic` that
    /// asked for them, except the member itself.
    pub(crate) fn deliver_presence(&self, topic: &Topic, message: &Message, member: &PeerId) {
        let table = self.topics.read();
        let Some(subscribers) = table.get(topic).filter(|s| s.presence_listeners > 0) else {
            return;
        };
        for (id, subscriber) in subscribers {
            if subscriber.presence_events
                && id != member
                && subscriber
                    .link
                    .push(Frame::Message(message.clone()))
                    .is_ok()
            {
                xws::metrics::messages_out(1, message.len());
            }
        }
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
        let started = std::time::Instant::now();
        let table = self.topics.read();
        let Some(subscribers) = table.get(topic) else {
            return 0;
        };
        // WebSocket peers share one conversion, SSE streams one encoding.
        // What reaches here is live and without a position (publications
        // with one come through the stream engine), so the event has no id:
        // a client's Last-Event-ID stays the last position it saw, and no
        // counter tells it how much the node published elsewhere.
        let mut websocket = SharedFrames::default();
        let mut sse_event: Option<Bytes> = None;
        let mut delivered = 0;
        for (id, subscriber) in subscribers {
            if Some(id) == exclude {
                continue;
            }
            let link = &subscriber.link;
            let frame = match link.kind {
                LinkKind::WebSocket => websocket.frame_for(link, message),
                LinkKind::Fallback => Frame::Message(message.clone()),
                LinkKind::Sse => Frame::Encoded(
                    sse_event
                        .get_or_insert_with(|| sse::encode_event(None, message))
                        .clone(),
                ),
            };
            if link.push(frame).is_ok() {
                delivered += 1;
            }
        }
        count_fan_out(topic.as_str(), delivered, message.len(), started);
        delivered
    }

    fn deliver_broadcast(&self, message: &Message) -> usize {
        let started = std::time::Instant::now();
        let mut websocket = SharedFrames::default();
        let delivered = self
            .peers
            .read()
            .values()
            .filter(|link| {
                let frame = match link.kind {
                    LinkKind::WebSocket => websocket.frame_for(link, message),
                    _ => Frame::Message(message.clone()),
                };
                link.push(frame).is_ok()
            })
            .count();
        count_fan_out(
            xws::metrics::BROADCAST_PATTERN,
            delivered,
            message.len(),
            started,
        );
        delivered
    }

    fn deliver_to(&self, peer: &PeerId, message: Message) -> bool {
        let link = self.peers.read().get(peer).cloned();
        let bytes = message.len();
        let sent = link.is_some_and(|link| link.push(Frame::Message(message)).is_ok());
        if sent {
            xws::metrics::messages_out(1, bytes);
        }
        sent
    }

    fn peer_ids(&self) -> Vec<PeerId> {
        self.peers.read().keys().cloned().collect()
    }
}

/// One fan-out's metrics: `delivered` messages of `bytes` each, queued
/// since `started`.
fn count_fan_out(pattern_of: &str, delivered: usize, bytes: usize, started: std::time::Instant) {
    xws::metrics::delivered(pattern_of, delivered, started.elapsed().as_secs_f64());
    xws::metrics::messages_out(delivered as u64, delivered * bytes);
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
        if let Some(streams) = self.streams.get().filter(|s| s.keeps_history(&topic)) {
            // Kept in history first; the subscribers of this node at the time
            // count as reached, as for the broker's publications.
            let delivered = self.subscriber_count(&topic);
            return streams.publish_started(topic, message, exclude, delivered);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::OutboxReader;

    fn member(registry: &Registry) -> (Arc<PeerLink>, OutboxReader) {
        let (link, queue) = PeerLink::new(
            registry.new_peer_id(),
            LinkKind::WebSocket,
            16,
            xws::SlowConsumer::Close,
        );
        (Arc::new(link), queue)
    }

    #[test]
    fn join_and_leave_events_reach_only_members_that_asked_while_any_did() {
        let registry = Registry::new(8);
        let topic = Topic::new("room:a").unwrap();
        let (listener, mut listener_queue) = member(&registry);
        let (quiet, mut quiet_queue) = member(&registry);
        let (joining, _joining_queue) = member(&registry);
        registry.insert_subscriber(&topic, &quiet, 0, false);
        assert!(!registry.has_presence_listeners(&topic));
        registry.insert_subscriber(&topic, &listener, 0, true);
        assert!(registry.has_presence_listeners(&topic));

        registry.deliver_presence(&topic, &Message::from("joined"), &joining.id);
        let mut batch = Vec::new();
        assert_eq!(listener_queue.take(&mut batch, 10), 1);
        assert_eq!(quiet_queue.take(&mut batch, 10), 0);

        // Subscribing again without events replaces the listener.
        registry.insert_subscriber(&topic, &listener, 0, false);
        assert!(!registry.has_presence_listeners(&topic));
        registry.insert_subscriber(&topic, &listener, 0, true);
        registry.unsubscribe_quietly(&topic, &listener);
        assert!(!registry.has_presence_listeners(&topic));
        registry.deliver_presence(&topic, &Message::from("left"), &joining.id);
        assert_eq!(listener_queue.take(&mut batch, 10), 0);
    }
}
