//! History, recovery and presence on Tokio: the stream engine between the
//! peers, the registry and a [`StreamStore`].
//!
//! Publications to topics that keep history go through one ordered queue
//! to the store (`appends`), so a peer's publications keep their order
//! and each gets the next offset. Delivery then happens in offset order
//! per topic: straight after the append for a store of this process, or
//! from the store's feed for a store shared by several nodes (Redis),
//! whose order is the offsets' order on every node. A gap in the feed (a
//! publication past the next offset, or the feed reconnecting) makes the
//! node read what it missed from the history, holding back what the feed
//! brings meanwhile, before it delivers anything newer.
//!
//! Per topic the engine remembers the last offset this node delivered and
//! the subscriptions being prepared, which capture live publications
//! until they start (see [`xws::stream::recover`] for the steps).

mod peer;

use parking_lot::Mutex;
use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{Arc, Weak},
    time::{SystemTime, UNIX_EPOCH},
};
use tokio::sync::{mpsc, oneshot};
use xws::{
    Delivery, Error, Message, PeerId, Pending, Topic,
    stream::{
        Append, Member, Position, PresenceChange, PresenceEvent, Publication, Read, ReadFrom,
        Retention, StreamConfig, StreamEvent, StreamStore,
    },
};

use crate::registry::Registry;

pub(crate) use peer::attach;

/// Publications waiting for the store, at most; more is back-pressure:
/// `publish` answers [`Error::QueueFull`].
const APPEND_QUEUE: usize = 4096;
/// Publications handed to the store at once (one pipeline in Redis).
const APPEND_BATCH: usize = 64;

/// A random epoch prefix for this process's memory store.
pub(crate) fn random_epoch() -> String {
    let random = RandomState::new().hash_one(std::process::id());
    format!("{:012x}", random & 0xffff_ffff_ffff)
}

/// Milliseconds since the Unix epoch: history ages are wall-clock ages.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// Told the outcome of an append (for `Hub::publish`).
type Done = oneshot::Sender<Result<Publication, Error>>;

/// What the append task does, in queue order.
enum Job {
    /// One publication on its way to the store.
    Append { append: Append, done: Option<Done> },
    /// Answered once everything queued before it is in the store.
    Barrier(oneshot::Sender<()>),
}

/// What the node knows of one topic's stream.
#[derive(Default)]
struct TopicState {
    /// The epoch of the last publication delivered here.
    epoch: Option<String>,
    /// The last offset delivered here (0: none yet).
    last: u64,
    /// A read of missed publications is under way (shared stores): what
    /// the feed brings meanwhile waits here.
    reading: Option<Vec<Publication>>,
    /// Subscriptions being prepared, with what they captured.
    pending: HashMap<PeerId, Preparing>,
}

/// A subscription being prepared: live publications wait here.
struct Preparing {
    /// Tells a later subscription of the same peer from this one.
    ticket: u64,
    captured: Vec<Publication>,
}

/// The stream engine of one [`Xws`](crate::Xws).
pub(crate) struct Engine {
    config: StreamConfig,
    store: Arc<dyn StreamStore>,
    /// The store announces appends and presence itself (shared store).
    feed: bool,
    registry: Weak<Registry>,
    appends: mpsc::Sender<Job>,
    topics: Mutex<HashMap<Topic, TopicState>>,
    /// Peers' presence memberships on this node (topic and info), to end
    /// them when the peer leaves.
    members: Mutex<HashMap<PeerId, Vec<(Topic, serde_json::Value)>>>,
    tickets: std::sync::atomic::AtomicU64,
}

impl Engine {
    /// Starts the engine: its append task, and the store's feed if it has
    /// one. Must run inside a Tokio runtime.
    pub(crate) fn start(
        config: StreamConfig,
        store: Arc<dyn StreamStore>,
        registry: &Arc<Registry>,
    ) -> Arc<Self> {
        let (appends, queue) = mpsc::channel(APPEND_QUEUE);
        let engine = Arc::new_cyclic(|me: &Weak<Engine>| {
            let feed = {
                let me = me.clone();
                store.start_feed(Arc::new(move |event| {
                    if let Some(engine) = me.upgrade() {
                        engine.on_event(event);
                    }
                }))
            };
            Engine {
                config,
                store,
                feed,
                registry: Arc::downgrade(registry),
                appends,
                topics: Mutex::default(),
                members: Mutex::default(),
                tickets: std::sync::atomic::AtomicU64::new(1),
            }
        });
        tokio::spawn(run_appends(Arc::downgrade(&engine), queue));
        engine
    }

    /// The members of `topic`'s presence, as the store has them (on
    /// every node that shares it).
    pub(crate) async fn members(&self, topic: &Topic) -> Result<Vec<xws::stream::Member>, Error> {
        self.store.members(topic).await
    }

    pub(crate) fn keeps_history(&self, topic: &Topic) -> bool {
        self.config.retention(topic.as_str()).is_some()
    }

    fn retention(&self, topic: &Topic) -> Result<Retention, Error> {
        self.config
            .retention(topic.as_str())
            .ok_or(Error::Unsupported {
                target: "this topic",
                capability: "history",
                alternative: "add a StreamConfig rule with history for the topic",
            })
    }

    /// Queues a publication; it is appended and delivered in queue order.
    pub(crate) fn publish(
        &self,
        topic: &Topic,
        message: Message,
        publisher: Option<PeerId>,
    ) -> Result<(), Error> {
        let job = Job::Append {
            append: self.append(topic.clone(), message, publisher)?,
            done: None,
        };
        self.appends.try_send(job).map_err(|_| {
            tracing::warn!(%topic, "stream append queue full: publication refused");
            Error::QueueFull
        })
    }

    /// Queues a publication now; the answer resolves once the store has it
    /// (with `delivered` as the count).
    pub(crate) fn publish_started(
        &self,
        topic: Topic,
        message: Message,
        publisher: Option<PeerId>,
        delivered: usize,
    ) -> Pending<Delivery> {
        let (done, outcome) = oneshot::channel();
        let job = match self.append(topic, message, publisher) {
            Ok(append) => Job::Append {
                append,
                done: Some(done),
            },
            Err(error) => return Pending::ready(Err(error)),
        };
        if self.appends.try_send(job).is_err() {
            return Pending::ready(Err(Error::QueueFull));
        }
        Pending::started(async move {
            match outcome.await {
                Ok(Ok(_)) => Ok(Delivery { delivered }),
                Ok(Err(error)) => Err(error),
                Err(_) => Err(Error::transport("the stream engine stopped")),
            }
        })
    }

    fn append(
        &self,
        topic: Topic,
        message: Message,
        publisher: Option<PeerId>,
    ) -> Result<Append, Error> {
        Ok(Append {
            retention: self.retention(&topic)?,
            topic,
            message,
            publisher,
            now_ms: now_ms(),
        })
    }

    /// Waits until every publication queued so far is in the store, so a
    /// peer reads its own writes.
    pub(crate) async fn settle(&self) {
        let (done, settled) = oneshot::channel();
        if self.appends.send(Job::Barrier(done)).await.is_ok() {
            let _ = settled.await;
        }
    }

    /// Reads `topic`'s history.
    pub(crate) async fn read(
        &self,
        topic: &Topic,
        from: ReadFrom,
    ) -> Result<xws::stream::HistoryPage, Error> {
        let read = Read {
            topic: topic.clone(),
            from,
            retention: self.retention(topic)?,
            now_ms: now_ms(),
        };
        self.store.read(read).await
    }

    /// What the store announced (shared stores).
    fn on_event(self: &Arc<Self>, event: StreamEvent) {
        match event {
            StreamEvent::Published { topic, publication } => self.on_feed(&topic, publication),
            StreamEvent::Presence(event) => self.announce(&event),
            StreamEvent::Resync => self.resync(),
        }
    }

    /// Whether this node delivers `topic`: it has subscribers, or
    /// subscriptions being prepared. Forgets the topic otherwise.
    fn interested<'a>(
        registry: &Registry,
        topics: &'a mut HashMap<Topic, TopicState>,
        topic: &Topic,
    ) -> Option<&'a mut TopicState> {
        let interested = registry.has_subscribers(topic)
            || topics
                .get(topic)
                .is_some_and(|state| !state.pending.is_empty());
        if !interested {
            topics.remove(topic);
            return None;
        }
        Some(topics.entry(topic.clone()).or_default())
    }

    /// A publication appended by this process (stores without a feed), in
    /// offset order.
    fn on_publication(self: &Arc<Self>, topic: &Topic, publication: Publication) {
        let Some(registry) = self.registry.upgrade() else {
            return;
        };
        let mut topics = self.topics.lock();
        if let Some(state) = Self::interested(&registry, &mut topics, topic) {
            deliver(&registry, topic, state, publication);
        }
    }

    /// A publication from a shared store's feed: delivered if it is the
    /// next one; after a gap, the missed ones are read from history first.
    fn on_feed(self: &Arc<Self>, topic: &Topic, publication: Publication) {
        let Some(registry) = self.registry.upgrade() else {
            return;
        };
        let mut topics = self.topics.lock();
        let Some(state) = Self::interested(&registry, &mut topics, topic) else {
            return;
        };
        if let Some(waiting) = &mut state.reading {
            waiting.push(publication);
            return;
        }
        let same_epoch = state.epoch.as_deref() == Some(publication.position.epoch.as_str());
        if same_epoch && publication.offset() > state.last + 1 {
            tracing::debug!(%topic, after = state.last, got = publication.offset(), "stream feed gap: reading the missed publications");
            state.reading = Some(vec![publication]);
            self.read_missed(topic.clone(), state.last);
            return;
        }
        // The next one, one this node has (dropped), or the first of a
        // topic new here or of a new epoch.
        deliver(&registry, topic, state, publication);
    }

    /// Reads `topic`'s history after `after`, delivers it, then what the
    /// feed brought meanwhile, and reads again if a gap remains.
    fn read_missed(self: &Arc<Self>, topic: Topic, after: u64) {
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            let mut after = after;
            loop {
                let read = engine.read(&topic, ReadFrom::After(after)).await;
                let Some(registry) = engine.registry.upgrade() else {
                    return;
                };
                let mut topics = engine.topics.lock();
                let Some(state) = topics.get_mut(&topic) else {
                    return;
                };
                match read {
                    Ok(page)
                        if after > 0
                            && state.epoch.as_deref() != Some(page.position.epoch.as_str()) =>
                    {
                        // The stream started over (Redis lost it): all of the
                        // new epoch is missed here.
                        after = 0;
                        continue;
                    }
                    Ok(page) => {
                        for publication in page.publications {
                            deliver(&registry, &topic, state, publication);
                        }
                    }
                    Err(error) => {
                        // Held-back publications still go out; the next gap
                        // (or resync) reads again.
                        tracing::warn!(%topic, %error, "reading missed publications failed: subscribers here miss some until they reconnect");
                        let waiting = state.reading.take().unwrap_or_default();
                        for publication in waiting {
                            deliver(&registry, &topic, state, publication);
                        }
                        return;
                    }
                }
                let mut waiting = state.reading.take().unwrap_or_default();
                waiting.sort_by_key(Publication::offset);
                let gap = waiting.iter().position(|publication| {
                    state.epoch.as_deref() == Some(publication.position.epoch.as_str())
                        && publication.offset() > state.last + 1
                });
                match gap {
                    None => {
                        for publication in waiting {
                            deliver(&registry, &topic, state, publication);
                        }
                        return;
                    }
                    Some(gap) => {
                        // The feed lost some while reading: deliver up to the
                        // gap, read again, hold back the rest.
                        let rest = waiting.split_off(gap);
                        for publication in waiting {
                            deliver(&registry, &topic, state, publication);
                        }
                        state.reading = Some(rest);
                        after = state.last;
                    }
                }
            }
        });
    }

    /// The feed was interrupted: every topic reads what it may have missed.
    fn resync(self: &Arc<Self>) {
        let mut topics = self.topics.lock();
        for (topic, state) in topics.iter_mut() {
            if state.epoch.is_some() && state.reading.is_none() {
                state.reading = Some(Vec::new());
                self.read_missed(topic.clone(), state.last);
            }
        }
    }

    /// Starts capturing `topic`'s publications for `peer`; returns the
    /// ticket that [`take_pending`](Self::take_pending) needs.
    fn begin(&self, topic: &Topic, peer: &PeerId) -> u64 {
        let ticket = self
            .tickets
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.topics
            .lock()
            .entry(topic.clone())
            .or_default()
            .pending
            .insert(
                peer.clone(),
                Preparing {
                    ticket,
                    captured: Vec::new(),
                },
            );
        ticket
    }

    /// Ends a preparation and runs `then` with what it captured, under the
    /// lock that delivery takes, so no publication passes in between;
    /// `then` returns the subscriber's watermark. Nothing runs (and it
    /// returns `false`) if the peer left or subscribed again meanwhile.
    ///
    /// When `then` returns a watermark (it subscribed the topic's first
    /// subscriber here) and this node has delivered nothing of the topic
    /// yet, the node stands at the watermark: a gap in the feed right after
    /// is noticed. (With other subscribers it could be behind them.)
    fn take_pending(
        &self,
        topic: &Topic,
        peer: &PeerId,
        ticket: u64,
        then: impl FnOnce(Vec<Publication>) -> Option<Position>,
    ) -> bool {
        let mut topics = self.topics.lock();
        let Some(state) = topics.get_mut(topic) else {
            return false;
        };
        if state.pending.get(peer).is_none_or(|p| p.ticket != ticket) {
            return false;
        }
        match state.pending.remove(peer) {
            Some(pending) => {
                if let Some(watermark) = then(pending.captured) {
                    if state.epoch.is_none() {
                        state.last = watermark.offset;
                        state.epoch = Some(watermark.epoch);
                    }
                }
                true
            }
            None => false,
        }
    }

    /// Drops a preparation that failed.
    fn abandon(&self, topic: &Topic, peer: &PeerId, ticket: u64) {
        self.take_pending(topic, peer, ticket, |_| None);
    }

    /// A peer left `topics` (unsubscribed or closed): its preparations end,
    /// and so does its presence there.
    pub(crate) fn forget(self: &Arc<Self>, peer: &PeerId, topics: &[Topic]) {
        {
            let mut states = self.topics.lock();
            for topic in topics {
                if let Some(state) = states.get_mut(topic) {
                    state.pending.remove(peer);
                }
            }
        }
        let left: Vec<(Topic, serde_json::Value)> = {
            let mut members = self.members.lock();
            let Some(joined) = members.get_mut(peer) else {
                return;
            };
            let (left, stay) = std::mem::take(joined)
                .into_iter()
                .partition(|(topic, _)| topics.contains(topic));
            *joined = stay;
            if joined.is_empty() {
                members.remove(peer);
            }
            left
        };
        for (topic, info) in left {
            let engine = Arc::clone(self);
            let peer = peer.clone();
            tokio::spawn(async move {
                match engine.store.leave(&topic, &peer).await {
                    Ok(true) if !engine.feed => engine.announce(&PresenceEvent {
                        change: PresenceChange::Leave,
                        topic,
                        member: Member { id: peer, info },
                    }),
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(%topic, %peer, %error, "presence leave failed");
                    }
                }
            });
        }
    }

    /// Adds `member` to `topic`'s presence.
    async fn join(self: &Arc<Self>, topic: &Topic, member: Member) -> Result<(), Error> {
        let new = self.store.join(topic, &member).await?;
        {
            let mut members = self.members.lock();
            let joined = members.entry(member.id.clone()).or_default();
            joined.retain(|(joined, _)| joined != topic);
            joined.push((topic.clone(), member.info.clone()));
        }
        if new && !self.feed {
            self.announce(&PresenceEvent {
                change: PresenceChange::Join,
                topic: topic.clone(),
                member,
            });
        }
        Ok(())
    }

    /// Delivers a join or leave to this node's subscribers that asked.
    fn announce(&self, event: &PresenceEvent) {
        let Some(registry) = self
            .registry
            .upgrade()
            .filter(|registry| registry.has_presence_listeners(&event.topic))
        else {
            return;
        };
        let message = (self.config.presence_format(&event.topic))(event);
        registry.deliver_presence(&event.topic, &message, &event.member.id);
    }
}

/// Delivers one publication here and records it; captures it for the
/// subscriptions being prepared. Publications this node delivered already
/// are skipped (a catch-up overlapping the feed).
fn deliver(registry: &Registry, topic: &Topic, state: &mut TopicState, publication: Publication) {
    if state.epoch.as_deref() != Some(publication.position.epoch.as_str()) {
        if state.epoch.is_some() {
            tracing::info!(%topic, epoch = %publication.position.epoch, "stream reset: new epoch");
            registry.reset_watermarks(topic);
        }
        state.epoch = Some(publication.position.epoch.clone());
        state.last = 0;
    }
    if publication.offset() <= state.last {
        return;
    }
    state.last = publication.offset();
    for pending in state.pending.values_mut() {
        pending.captured.push(publication.clone());
    }
    registry.deliver_publication(topic, &publication, publication.publisher.as_ref());
}

/// Hands queued publications to the store in order, and delivers them
/// when the store has no feed.
async fn run_appends(engine: Weak<Engine>, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(APPEND_BATCH);
    while queue.recv_many(&mut jobs, APPEND_BATCH).await > 0 {
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let mut batch = Vec::with_capacity(jobs.len());
        for job in jobs.drain(..) {
            match job {
                Job::Append { append, done } => batch.push((append, done)),
                Job::Barrier(done) => {
                    engine.append_batch(std::mem::take(&mut batch)).await;
                    let _ = done.send(());
                }
            }
        }
        engine.append_batch(batch).await;
    }
}

impl Engine {
    /// Appends a batch in order and delivers it (stores without a feed).
    async fn append_batch(self: &Arc<Self>, batch: Vec<(Append, Option<Done>)>) {
        if batch.is_empty() {
            return;
        }
        let mut replies = Vec::with_capacity(batch.len());
        let appends = batch
            .into_iter()
            .map(|(append, done)| {
                replies.push((
                    append.topic.clone(),
                    append.message.clone(),
                    append.publisher.clone(),
                    done,
                ));
                append
            })
            .collect();
        let results = self.store.append_all(appends).await;
        for (result, (topic, message, publisher, done)) in results.into_iter().zip(replies) {
            match &result {
                Ok(publication) if !self.feed => {
                    self.on_publication(&topic, publication.clone());
                }
                Ok(_) => {}
                Err(error) => {
                    // The store is away: delivered as without streams (here and
                    // through the broker), at most once and without a position.
                    tracing::warn!(%topic, %error, "stream append failed: delivering without a position");
                    if let Some(registry) = self.registry.upgrade() {
                        registry.publish(&topic, message, publisher.as_ref());
                    }
                }
            }
            if let Some(done) = done {
                let _ = done.send(result);
            }
        }
    }
}
