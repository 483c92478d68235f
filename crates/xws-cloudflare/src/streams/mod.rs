//! History, recovery and presence in a Durable Object: the rules of
//! [`xws::stream`] over the object's SQLite storage ([`SqlStore`]).
//!
//! The object runs one event at a time and its storage calls are
//! synchronous, so a publication is appended and delivered in one step:
//! subscribers see every topic in offset order. A subscription reads the
//! history it needs while capturing live publications (in case the
//! handler awaits before starting it), and starts with [`seam`]: the
//! replay, the captured publications past it, then live delivery.

mod store;

use std::{
    cell::{Cell, RefCell},
    collections::HashMap,
    sync::Arc,
};

use xws::{
    BoxFuture, Error, Message, PeerId, Topic,
    stream::{
        self, HistoryPage, Member, PeerStreams, Publication, Read, ReadFrom, Recovery, StartLive,
        StreamConfig, SubscribeOptions, Subscription, seam,
    },
};

pub use store::SqlStore;

use crate::{
    ids,
    registry::{Joined, Registry},
};

/// A subscription being prepared: the live publications it captured.
struct Preparing {
    ticket: u64,
    captured: Vec<Publication>,
}

/// An object's streams: which topics keep what, and the store.
pub struct Streams {
    pub(crate) config: StreamConfig,
    pub(crate) store: SqlStore,
    pending: RefCell<HashMap<Topic, HashMap<PeerId, Preparing>>>,
    tickets: Cell<u64>,
}

impl Streams {
    /// Streams following `config`, stored in `store`.
    pub fn new(config: StreamConfig, store: SqlStore) -> Self {
        Self {
            config,
            store,
            pending: RefCell::default(),
            tickets: Cell::new(1),
        }
    }

    /// Captures a delivered publication for the subscriptions being
    /// prepared on its topic.
    pub(crate) fn capture(&self, topic: &Topic, publication: &Publication) {
        if let Some(pending) = self.pending.borrow_mut().get_mut(topic) {
            for preparing in pending.values_mut() {
                preparing.captured.push(publication.clone());
            }
        }
    }

    /// Starts capturing `topic` for `peer`.
    fn begin(&self, topic: &Topic, peer: &PeerId) -> u64 {
        let ticket = self.tickets.get();
        self.tickets.set(ticket + 1);
        self.pending
            .borrow_mut()
            .entry(topic.clone())
            .or_default()
            .insert(
                peer.clone(),
                Preparing {
                    ticket,
                    captured: Vec::new(),
                },
            );
        ticket
    }

    /// Ends the preparation `ticket`, returning what it captured; `None`
    /// if the peer left or subscribed again meanwhile.
    fn take(&self, topic: &Topic, peer: &PeerId, ticket: u64) -> Option<Vec<Publication>> {
        let mut pending = self.pending.borrow_mut();
        let preparing = pending.get_mut(topic)?;
        if preparing.get(peer).is_none_or(|p| p.ticket != ticket) {
            return None;
        }
        let taken = preparing.remove(peer).map(|p| p.captured);
        if preparing.is_empty() {
            pending.remove(topic);
        }
        taken
    }

    /// Drops `peer`'s preparations on `topic`, or on every topic.
    pub(crate) fn forget(&self, peer: &PeerId, topic: Option<&Topic>) {
        let mut pending = self.pending.borrow_mut();
        match topic {
            Some(topic) => {
                if let Some(preparing) = pending.get_mut(topic) {
                    preparing.remove(peer);
                }
            }
            None => pending.values_mut().for_each(|preparing| {
                preparing.remove(peer);
            }),
        }
        pending.retain(|_, preparing| !preparing.is_empty());
    }

    fn read(&self, topic: &Topic, from: ReadFrom) -> Result<HistoryPage, Error> {
        let retention = self
            .config
            .retention(topic.as_str())
            .ok_or(Error::Unsupported {
                target: "this topic",
                capability: "history",
                alternative: "add a StreamConfig rule with history for the topic",
            })?;
        self.store.read_now(&Read {
            topic: topic.clone(),
            from,
            retention,
            now_ms: ids::now_ms(),
        })
    }

    /// Reads the history the options need and decides the replay.
    fn recover(&self, topic: &Topic, options: &SubscribeOptions) -> Result<Recovery, Error> {
        let page = self.read(topic, stream::read_for(options))?;
        let mut recovery = stream::recover(options, page);
        if stream::needs_latest(options, &recovery) {
            recovery.replay = self.read(topic, ReadFrom::Latest(1))?.publications;
        }
        Ok(recovery)
    }
}

/// Gives `peer` the object's streams, if it keeps any.
pub(crate) fn attach<C>(registry: &Arc<Registry>, peer: &xws::Peer<C>) {
    if registry.streams().is_some() {
        #[allow(
            clippy::arc_with_non_send_sync,
            reason = "Workers run on one thread; `xws::Peer` holds its streams in an `Arc`"
        )]
        let streams = Arc::new(ObjectPeerStreams {
            registry: Arc::clone(registry),
            id: peer.id().clone(),
        });
        stream::attach(peer, streams);
    }
}

/// A peer's side of the object's streams.
struct ObjectPeerStreams {
    registry: Arc<Registry>,
    id: PeerId,
}

impl ObjectPeerStreams {
    fn streams(&self) -> &Streams {
        self.registry
            .streams()
            .expect("attached only to peers of an object with streams")
    }

    fn prepare(&self, topic: &Topic, options: SubscribeOptions) -> Subscription {
        let streams = self.streams();
        // Subscribing again replaces the subscription.
        self.registry.unsubscribe_quietly(&self.id, topic);
        let presence = streams.config.presence(topic.as_str());
        let joined = Joined {
            info: options.info.clone(),
            events: options.presence_events,
        };
        if streams.config.retention(topic.as_str()).is_none() {
            if presence {
                self.registry.join(&self.id, topic, joined);
            }
            self.registry.subscribe(&self.id, topic);
            return Subscription::new(None, None, 0, None);
        }
        let ticket = streams.begin(topic, &self.id);
        let recovery = match streams.recover(topic, &options) {
            Ok(recovery) => recovery,
            Err(error) => {
                // The peer still joins, live from now on, without a position.
                tracing::warn!(%topic, %error, "stream storage unavailable: subscribing without history");
                streams.forget(&self.id, Some(topic));
                self.registry.subscribe(&self.id, topic);
                return Subscription::new(None, options.since.as_ref().map(|_| false), 0, None);
            }
        };
        if presence {
            self.registry.join(&self.id, topic, joined);
        }
        let (position, recovered, replayed) = (
            recovery.position.clone(),
            recovery.recovered,
            recovery.replay.len(),
        );
        let start = Start {
            registry: Arc::clone(&self.registry),
            id: self.id.clone(),
            topic: topic.clone(),
            ticket,
            recovery,
        };
        Subscription::new(Some(position), recovered, replayed, Some(Box::new(start)))
    }
}

impl PeerStreams for ObjectPeerStreams {
    fn keeps_history(&self, topic: &Topic) -> bool {
        self.streams().config.retention(topic.as_str()).is_some()
    }

    fn publish(&self, topic: &Topic, message: Message) -> Result<(), Error> {
        self.registry.publish_kept(topic, message, Some(&self.id));
        Ok(())
    }

    fn subscribe(
        &self,
        topic: &Topic,
        options: SubscribeOptions,
    ) -> BoxFuture<'_, Result<Subscription, Error>> {
        let subscription = self.prepare(topic, options);
        Box::pin(std::future::ready(Ok(subscription)))
    }

    fn history(&self, topic: &Topic, limit: usize) -> BoxFuture<'_, Result<HistoryPage, Error>> {
        let page = self.streams().read(topic, ReadFrom::Latest(limit));
        Box::pin(std::future::ready(page))
    }

    fn members(&self, topic: &Topic) -> BoxFuture<'_, Result<Vec<Member>, Error>> {
        let members = self.streams().store.members_now(topic);
        Box::pin(std::future::ready(Ok(members)))
    }

    fn member_count(&self, topic: &Topic) -> BoxFuture<'_, Result<usize, Error>> {
        let count = self.streams().store.member_count_now(topic);
        Box::pin(std::future::ready(Ok(count)))
    }
}

/// Starts a prepared subscription: replay, captured publications past it,
/// then live delivery (every later publication is newer: the object
/// appends and delivers in one step).
struct Start {
    registry: Arc<Registry>,
    id: PeerId,
    topic: Topic,
    ticket: u64,
    recovery: Recovery,
}

impl StartLive for Start {
    fn start(self: Box<Self>) {
        let Start {
            registry,
            id,
            topic,
            ticket,
            recovery,
        } = *self;
        let Some(streams) = registry.streams() else {
            return;
        };
        let Some(captured) = streams.take(&topic, &id, ticket) else {
            // The peer left, or subscribed again, meanwhile.
            return;
        };
        let (deliver, _watermark) = seam(&recovery.position, recovery.replay, captured);
        let mut sent = (0, 0);
        for publication in &deliver {
            if !registry.send_publication(&id, publication) {
                break;
            }
            sent = (sent.0 + 1, sent.1 + publication.message.len());
        }
        xws::metrics::messages_out(sent.0, sent.1);
        registry.subscribe(&id, &topic);
    }
}
