//! The object's peer table: every socket it holds, by peer id, and a topic
//! index (topic → subscribers' sockets), so a publication goes straight to
//! the sockets that want it. Rebuilt from socket attachments after the
//! object wakes from hibernation, before any event is handled.
//!
//! With streams ([`Config::with_streams`](crate::Config::with_streams)) it
//! also appends publications to history topics before delivering them
//! with their position, and keeps each peer's presence memberships, which
//! travel in the attachment too: presence is the sockets the object holds.

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet, HashMap},
};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use worker::{State, WebSocket};
use xws::{
    Delivery, Error, Message, PeerId, Pending, Topic,
    adapter::HubTransport,
    stream::{Append, Member, PresenceChange, PresenceEvent, Publication},
};

use crate::{ids, outgoing::Outgoing, streams::Streams};

/// What a socket of the object carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerKind {
    /// A client's WebSocket: a full peer with hooks.
    #[default]
    WebSocket,
    /// The Worker's socket behind one SSE stream: it only receives the
    /// publications of its topics (no hooks, no broadcasts, not listed),
    /// each already encoded as an event.
    Sse,
}

/// A peer's membership of a topic's presence, kept in its attachment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Joined {
    /// The member's info, as listed.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub info: Value,
    /// Whether it receives the topic's join and leave events.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub events: bool,
}

/// One socket of the object.
struct Link {
    socket: WebSocket,
    kind: PeerKind,
    topics: BTreeSet<Topic>,
    joined: BTreeMap<Topic, Joined>,
}

/// A subscriber as the topic index holds it.
#[derive(Clone)]
struct Subscriber {
    socket: WebSocket,
    kind: PeerKind,
}

/// The peers of one Durable Object instance.
pub struct Registry {
    state: State,
    peers: RefCell<HashMap<PeerId, Link>>,
    topics: RefCell<HashMap<Topic, HashMap<PeerId, Subscriber>>>,
    streams: Option<Streams>,
}

impl Registry {
    /// An empty table for the object with `state`, with its streams if the
    /// object keeps any.
    pub fn new(state: State, streams: Option<Streams>) -> Self {
        Self {
            state,
            peers: RefCell::default(),
            topics: RefCell::default(),
            streams,
        }
    }

    /// The object's state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The object's streams, if it keeps any.
    pub fn streams(&self) -> Option<&Streams> {
        self.streams.as_ref()
    }

    /// Peers (sockets and SSE streams) this instance holds in memory.
    pub fn len(&self) -> usize {
        self.peers.borrow().len()
    }

    /// Adds a peer already subscribed to `topics` and member of `joined`
    /// (none for a new one; the stored ones for a peer restored after
    /// hibernation, which rejoin presence without events).
    pub fn insert(
        &self,
        id: PeerId,
        socket: WebSocket,
        kind: PeerKind,
        topics: BTreeSet<Topic>,
        joined: BTreeMap<Topic, Joined>,
    ) {
        {
            let mut index = self.topics.borrow_mut();
            for topic in &topics {
                index.entry(topic.clone()).or_default().insert(
                    id.clone(),
                    Subscriber {
                        socket: socket.clone(),
                        kind,
                    },
                );
            }
        }
        if let Some(streams) = &self.streams {
            for (topic, membership) in &joined {
                let member = Member {
                    id: id.clone(),
                    info: membership.info.clone(),
                };
                streams.store.join_now(topic, &member);
            }
        }
        let link = Link {
            socket,
            kind,
            topics,
            joined,
        };
        self.peers.borrow_mut().insert(id, link);
    }

    /// Forgets a peer and its subscriptions; it leaves every presence it
    /// was in (members that asked hear it).
    pub fn remove(&self, id: &PeerId) {
        let Some(link) = self.peers.borrow_mut().remove(id) else {
            return;
        };
        {
            let mut index = self.topics.borrow_mut();
            for topic in &link.topics {
                unindex(&mut index, topic, id);
            }
        }
        if let Some(streams) = &self.streams {
            streams.forget(id, None);
        }
        for (topic, joined) in link.joined {
            self.leave(id, topic, joined.info);
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
                .insert(
                    id.clone(),
                    Subscriber {
                        socket: link.socket.clone(),
                        kind: link.kind,
                    },
                );
        }
    }

    /// Removes peer `id` from `topic`'s subscribers, and from its presence.
    pub fn unsubscribe(&self, id: &PeerId, topic: &Topic) {
        self.unsubscribe_quietly(id, topic);
        let left = self
            .peers
            .borrow_mut()
            .get_mut(id)
            .and_then(|link| link.joined.remove(topic));
        if let Some(joined) = left {
            self.leave(id, topic.clone(), joined.info);
        }
    }

    /// Removes peer `id` from `topic`'s subscribers but not from its
    /// presence: it is subscribing again.
    pub fn unsubscribe_quietly(&self, id: &PeerId, topic: &Topic) {
        if let Some(link) = self.peers.borrow_mut().get_mut(id)
            && link.topics.remove(topic)
        {
            unindex(&mut self.topics.borrow_mut(), topic, id);
        }
        if let Some(streams) = &self.streams {
            streams.forget(id, Some(topic));
        }
    }

    /// Sends `message` to `topic`'s subscribers except `exclude`, without
    /// a position; one failed socket never stops the fan-out.
    pub fn publish(&self, topic: &Topic, message: &Message, exclude: Option<&PeerId>) -> usize {
        self.fan_out(topic, exclude, message, || {
            xws::sse::encode_event(None, message)
        })
    }

    /// Publishes like [`publish`](Self::publish), but a topic that keeps
    /// history gets the message appended first and delivered with its
    /// position. Storage that fails delivers it without one (at most
    /// once, as without history).
    pub fn publish_kept(
        &self,
        topic: &Topic,
        message: Message,
        publisher: Option<&PeerId>,
    ) -> usize {
        let Some((streams, retention)) = self
            .streams
            .as_ref()
            .and_then(|streams| Some((streams, streams.config.retention(topic.as_str())?)))
        else {
            return self.publish(topic, &message, publisher);
        };
        let append = Append {
            topic: topic.clone(),
            message,
            publisher: publisher.cloned(),
            retention,
            now_ms: ids::now_ms(),
        };
        match streams.store.append_now(&append) {
            Ok(publication) => self.deliver_publication(topic, &publication),
            Err(error) => {
                tracing::warn!(%topic, %error, "stream append failed: delivering without a position");
                self.publish(topic, &append.message, publisher)
            }
        }
    }

    /// Delivers a stored publication to `topic`'s subscribers but its
    /// publisher, and to the subscriptions being prepared.
    fn deliver_publication(&self, topic: &Topic, publication: &Publication) -> usize {
        if let Some(streams) = &self.streams {
            streams.capture(topic, publication);
        }
        self.fan_out(
            topic,
            publication.publisher.as_ref(),
            &publication.to_message(),
            || publication.to_sse(),
        )
    }

    /// Sends `message` to `topic`'s subscribers but `exclude`, an SSE
    /// stream the `event` built from it: each made a JavaScript value once
    /// for all of them, the event only if a stream follows the topic.
    fn fan_out(
        &self,
        topic: &Topic,
        exclude: Option<&PeerId>,
        message: &Message,
        event: impl Fn() -> Bytes,
    ) -> usize {
        let index = self.topics.borrow();
        let Some(subscribers) = index.get(topic) else {
            return 0;
        };
        let frame = Outgoing::message(message);
        let mut event_frame = None;
        let count = subscribers
            .iter()
            .filter(|(id, _)| Some(*id) != exclude)
            .filter(|(id, subscriber)| {
                let sent = match subscriber.kind {
                    PeerKind::WebSocket => frame.send(&subscriber.socket),
                    PeerKind::Sse => event_frame
                        .get_or_insert_with(|| Outgoing::event(&event()))
                        .send(&subscriber.socket),
                };
                delivered(id, sent)
            })
            .count();
        xws::metrics::delivered_untimed(topic.as_str(), count);
        xws::metrics::messages_out(count as u64, count * message.len());
        count
    }

    /// Sends a replayed publication to peer `id` (a WebSocket gets the
    /// message, an SSE stream the event).
    pub fn send_publication(&self, id: &PeerId, publication: &Publication) -> bool {
        let peers = self.peers.borrow();
        let Some(link) = peers.get(id) else {
            return false;
        };
        let sent = match link.kind {
            PeerKind::WebSocket => send(&link.socket, &publication.to_message()),
            PeerKind::Sse => Outgoing::event(&publication.to_sse()).send(&link.socket),
        };
        delivered(id, sent)
    }

    /// Makes peer `id` a member of `topic`'s presence (with join and leave
    /// events if `events`); the others that asked hear it join, unless it
    /// was a member already.
    pub fn join(&self, id: &PeerId, topic: &Topic, joined: Joined) {
        let Some(streams) = &self.streams else {
            return;
        };
        {
            let mut peers = self.peers.borrow_mut();
            let Some(link) = peers.get_mut(id) else {
                return;
            };
            link.joined.insert(topic.clone(), joined.clone());
        }
        let member = Member {
            id: id.clone(),
            info: joined.info,
        };
        if streams.store.join_now(topic, &member) {
            self.announce(&PresenceEvent {
                change: PresenceChange::Join,
                topic: topic.clone(),
                member,
            });
        }
    }

    fn leave(&self, id: &PeerId, topic: Topic, info: Value) {
        let Some(streams) = &self.streams else {
            return;
        };
        if streams.store.leave_now(&topic, id) {
            self.announce(&PresenceEvent {
                change: PresenceChange::Leave,
                topic,
                member: Member {
                    id: id.clone(),
                    info,
                },
            });
        }
    }

    /// Sends a join or leave to the topic's subscribers that asked for
    /// such events, never to the member itself.
    fn announce(&self, event: &PresenceEvent) {
        let Some(streams) = &self.streams else {
            return;
        };
        let message = Outgoing::message(&(streams.config.presence_format(&event.topic))(event));
        let peers = self.peers.borrow();
        let index = self.topics.borrow();
        let Some(subscribers) = index.get(&event.topic) else {
            return;
        };
        for (id, subscriber) in subscribers {
            let wants = peers
                .get(id)
                .and_then(|link| link.joined.get(&event.topic))
                .is_some_and(|joined| joined.events);
            if wants && *id != event.member.id && subscriber.kind == PeerKind::WebSocket {
                delivered(id, message.send(&subscriber.socket));
            }
        }
    }

    /// Peer `id`'s presence memberships, for its attachment.
    pub fn joined_of(&self, id: &PeerId) -> BTreeMap<Topic, Joined> {
        self.peers
            .borrow()
            .get(id)
            .map(|link| link.joined.clone())
            .unwrap_or_default()
    }

    /// Sends `message` to every WebSocket peer (SSE streams get topics only).
    pub fn broadcast(&self, message: &Message) -> usize {
        let frame = Outgoing::message(message);
        let count = self
            .peers
            .borrow()
            .iter()
            .filter(|(_, link)| link.kind == PeerKind::WebSocket)
            .filter(|(id, link)| delivered(id, frame.send(&link.socket)))
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

fn unindex(index: &mut HashMap<Topic, HashMap<PeerId, Subscriber>>, topic: &Topic, id: &PeerId) {
    if let Some(subscribers) = index.get_mut(topic) {
        subscribers.remove(id);
        if subscribers.is_empty() {
            index.remove(topic);
        }
    }
}

/// Writes `message` on `socket`.
pub fn send(socket: &WebSocket, message: &Message) -> Result<(), Error> {
    Outgoing::message(message).send(socket)
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
        let delivered = Registry::publish_kept(self, &topic, message, exclude.as_ref());
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
