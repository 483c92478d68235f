//! The peer: one connected client, as a handler sees it.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::{
    collections::BTreeSet,
    fmt,
    ops::{Deref, DerefMut},
    sync::{
        Arc, Mutex, MutexGuard, OnceLock, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use crate::{
    CloseCode, CloseFrame, Error, Message, RequestInfo, Topic,
    adapter::{PeerPolicy, PeerTransport},
    stream::{HistoryPage, Member, PeerStreams, SubscribeOptions, Subscription},
};

/// A peer's unique id: unique per adapter instance and, for adapters that span
/// nodes or invocations, globally (a node prefix, a Durable Object UUID, an
/// API Gateway connection id).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PeerId(Arc<str>);

impl PeerId {
    /// Wraps an adapter-made id.
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for PeerId {
    fn from(s: &str) -> Self {
        Self(s.into())
    }
}

impl From<String> for PeerId {
    fn from(s: String) -> Self {
        Self(s.into())
    }
}

/// One connected client: its id, request, typed context and topics, and the
/// operations a handler performs on it.
///
/// A `Peer` is a cheap handle (an `Arc`); clone it freely, for example into a
/// background task. Every operation is synchronous and never blocks: the
/// adapter queues the IO (a bounded per-peer queue on Tokio, a socket send on
/// Cloudflare, a `PostToConnection` on AWS).
pub struct Peer<C> {
    shared: Arc<Shared<C>>,
}

struct Shared<C> {
    id: PeerId,
    request: RequestInfo,
    context: Mutex<C>,
    topics: Mutex<BTreeSet<Topic>>,
    changed: AtomicBool,
    transport: Box<dyn PeerTransport>,
    policy: Arc<dyn PeerPolicy<C>>,
    /// [`Limits::max_topics_per_peer`](crate::Limits::max_topics_per_peer):
    /// enforced here so every adapter refuses the same way. A `u32` (larger
    /// limits saturate): with it the record fits a smaller malloc chunk,
    /// 16 bytes less for every connected peer.
    max_topics: u32,
    /// History, recovery and presence, where the adapter gives them.
    streams: OnceLock<Arc<dyn PeerStreams>>,
}

impl<C> Clone for Peer<C> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<C> fmt::Debug for Peer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peer")
            .field("id", &self.shared.id)
            .field("path", &self.shared.request.path)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking hook closes its own peer; its state stays readable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<C> Peer<C> {
    pub(crate) fn build(
        id: PeerId,
        request: RequestInfo,
        context: C,
        topics: BTreeSet<Topic>,
        transport: Box<dyn PeerTransport>,
        policy: Arc<dyn PeerPolicy<C>>,
        max_topics: usize,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                id,
                request,
                context: Mutex::new(context),
                topics: Mutex::new(topics),
                changed: AtomicBool::new(false),
                transport,
                policy,
                max_topics: u32::try_from(max_topics).unwrap_or(u32::MAX),
                streams: OnceLock::new(),
            }),
        }
    }

    /// The peer's id.
    pub fn id(&self) -> &PeerId {
        &self.shared.id
    }

    /// The request that opened the connection.
    pub fn request(&self) -> &RequestInfo {
        &self.shared.request
    }

    /// Reads the peer's context.
    ///
    /// The guard locks the context: drop it before awaiting (the compiler
    /// enforces this for `Send` futures).
    pub fn context(&self) -> ContextRef<'_, C> {
        ContextRef(lock(&self.shared.context))
    }

    /// Changes the peer's context; adapters that persist it (Cloudflare,
    /// AWS) store the new value when the hook returns.
    pub fn context_mut(&self) -> ContextMut<'_, C> {
        ContextMut {
            guard: lock(&self.shared.context),
            changed: &self.shared.changed,
        }
    }

    /// The topics this peer is subscribed to.
    pub fn topics(&self) -> Vec<Topic> {
        lock(&self.shared.topics).iter().cloned().collect()
    }

    /// Whether this peer is subscribed to `topic`.
    pub fn is_subscribed(&self, topic: &str) -> bool {
        lock(&self.shared.topics).contains(topic)
    }

    /// Sends a message to this peer.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.shared.transport.send(message.into())
    }

    /// Sends `value` serialized as JSON text.
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        self.send(Message::json(value)?)
    }

    /// Subscribes to `topic`, if the handler's `authorize_subscribe` allows it.
    /// Subscribing twice is a no-op. A peer holding
    /// [`Limits::max_topics_per_peer`](crate::Limits::max_topics_per_peer)
    /// topics gets [`Error::TooManyTopics`] for a new one.
    pub fn subscribe(&self, topic: impl AsRef<str>) -> Result<(), Error> {
        let topic = Topic::new(topic)?;
        if self.is_subscribed(topic.as_str()) {
            return Ok(());
        }
        if !self.shared.policy.may_subscribe(self, &topic) {
            return Err(Error::SubscribeRefused(topic.to_string()));
        }
        // Counted and added under one lock, so tasks sharing the peer
        // cannot pass the limit together.
        let mut topics = lock(&self.shared.topics);
        if topics.contains(&topic) {
            return Ok(());
        }
        self.has_room(&topics)?;
        self.shared.transport.subscribe(&topic)?;
        topics.insert(topic);
        self.shared.changed.store(true, Ordering::Release);
        Ok(())
    }

    /// `Ok` while `topics` holds fewer than the limit.
    fn has_room(&self, topics: &BTreeSet<Topic>) -> Result<(), Error> {
        let limit = usize::try_from(self.shared.max_topics).unwrap_or(usize::MAX);
        if topics.len() >= limit {
            tracing::debug!(peer = %self.shared.id, limit, "topic limit reached; subscription refused");
            return Err(Error::TooManyTopics { limit });
        }
        Ok(())
    }

    /// Unsubscribes from `topic`; unknown topics are a no-op.
    pub fn unsubscribe(&self, topic: impl AsRef<str>) -> Result<(), Error> {
        let topic = Topic::new(topic)?;
        if lock(&self.shared.topics).remove(&topic) {
            self.shared.transport.unsubscribe(&topic)?;
            self.shared.changed.store(true, Ordering::Release);
        }
        Ok(())
    }

    /// Publishes to every subscriber of `topic` except this peer, on every
    /// node the adapter reaches. Publishing to a topic without subscribers is
    /// not an error.
    ///
    /// A topic that keeps history (see [`crate::stream`]) appends the
    /// message first, and subscribers receive it with its position.
    /// [`Handler::authorize_publish`](crate::Handler::authorize_publish)
    /// decides first: [`Error::PublishRefused`] when it refuses.
    pub fn publish(
        &self,
        topic: impl AsRef<str>,
        message: impl Into<Message>,
    ) -> Result<(), Error> {
        let topic = self.publishable(topic)?;
        crate::metrics::published(topic.as_str());
        match self.shared.streams.get() {
            Some(streams) if streams.keeps_history(&topic) => {
                streams.publish(&topic, message.into())
            }
            _ => self.shared.transport.publish(&topic, message.into()),
        }
    }

    /// Publishes like [`publish`](Self::publish), but never into history:
    /// for what is stale a second later (typing indicators, cursors). The
    /// message carries no position and recovery never replays it.
    pub fn publish_ephemeral(
        &self,
        topic: impl AsRef<str>,
        message: impl Into<Message>,
    ) -> Result<(), Error> {
        let topic = self.publishable(topic)?;
        crate::metrics::published(topic.as_str());
        self.shared.transport.publish(&topic, message.into())
    }

    /// `topic`, when it is valid and the handler lets this peer publish.
    fn publishable(&self, topic: impl AsRef<str>) -> Result<Topic, Error> {
        let topic = Topic::new(topic)?;
        if !self.shared.policy.may_publish(self, &topic) {
            return Err(Error::PublishRefused(topic.to_string()));
        }
        Ok(topic)
    }

    /// Subscribes to `topic` with stream options: recovery from a
    /// position, the newest publication (cache mode), presence info and
    /// join/leave events (see [`crate::stream`]). The same authorization
    /// and topic limit as [`subscribe`](Self::subscribe) apply; subscribing again
    /// replaces the earlier subscription.
    ///
    /// Nothing from the topic reaches the peer until the returned
    /// [`Subscription`] starts (or drops): send the client its position
    /// first, then start it.
    ///
    /// ```no_run
    /// # async fn demo(peer: xws::Peer<()>, since: Option<xws::stream::Position>) -> Result<(), xws::Error> {
    /// use xws::stream::SubscribeOptions;
    /// let subscription = peer.subscribe_with("room:1", SubscribeOptions::new().since(since)).await?;
    /// peer.send_json(&serde_json::json!({
    ///     "type": "joined",
    ///     "position": subscription.position(),
    ///     "recovered": subscription.recovered(),
    /// }))?;
    /// subscription.start(); // the missed publications, then live ones
    /// # Ok(()) }
    /// ```
    pub async fn subscribe_with(
        &self,
        topic: impl AsRef<str>,
        options: SubscribeOptions,
    ) -> Result<Subscription, Error> {
        let topic = Topic::new(topic)?;
        if !self.shared.policy.may_subscribe(self, &topic) {
            return Err(Error::SubscribeRefused(topic.to_string()));
        }
        {
            // A hook's subscriptions run one at a time; an adapter whose
            // peers may subscribe concurrently counts exactly too (Tokio).
            let topics = lock(&self.shared.topics);
            if !topics.contains(&topic) {
                self.has_room(&topics)?;
            }
        }
        let subscription = self.streams()?.subscribe(&topic, options).await?;
        lock(&self.shared.topics).insert(topic);
        self.shared.changed.store(true, Ordering::Release);
        Ok(subscription)
    }

    /// The newest `limit` publications of `topic`, oldest first, with the
    /// stream's position (as subscribers received them:
    /// [`Publication::to_message`](crate::stream::Publication::to_message)).
    pub async fn history(
        &self,
        topic: impl AsRef<str>,
        limit: usize,
    ) -> Result<HistoryPage, Error> {
        let topic = Topic::new(topic)?;
        self.streams()?.history(&topic, limit).await
    }

    /// The members of `topic`'s presence.
    pub async fn presence(&self, topic: impl AsRef<str>) -> Result<Vec<Member>, Error> {
        let topic = Topic::new(topic)?;
        self.streams()?.members(&topic).await
    }

    /// How many members `topic`'s presence has.
    pub async fn presence_count(&self, topic: impl AsRef<str>) -> Result<usize, Error> {
        let topic = Topic::new(topic)?;
        self.streams()?.member_count(&topic).await
    }

    fn streams(&self) -> Result<&Arc<dyn PeerStreams>, Error> {
        self.shared.streams.get().ok_or(Error::Unsupported {
            target: "this adapter",
            capability: "streams (history, recovery, presence)",
            alternative: "give the adapter a stream store (xws_tokio::Xws::with_streams)",
        })
    }

    /// The first attachment wins: a peer's streams never change.
    pub(crate) fn attach_streams(&self, streams: Arc<dyn PeerStreams>) {
        let _ = self.shared.streams.set(streams);
    }

    /// Publishes `value` serialized once as JSON text.
    pub fn publish_json<T: Serialize + ?Sized>(
        &self,
        topic: impl AsRef<str>,
        value: &T,
    ) -> Result<(), Error> {
        self.publish(topic, Message::json(value)?)
    }

    /// Closes the connection with `code` and `reason`.
    pub fn close(&self, code: CloseCode, reason: impl Into<String>) {
        self.shared.transport.close(CloseFrame::new(code, reason));
    }

    pub(crate) fn take_changed(&self) -> bool {
        self.shared.changed.swap(false, Ordering::AcqRel)
    }

    pub(crate) fn snapshot(&self) -> PeerSnapshot<C>
    where
        C: Clone,
    {
        PeerSnapshot {
            id: self.shared.id.clone(),
            request: self.shared.request.clone(),
            context: lock(&self.shared.context).clone(),
            topics: lock(&self.shared.topics).clone(),
        }
    }
}

/// A peer's persistent state: what survives hibernation (Cloudflare) or lives
/// between invocations (AWS).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "C: DeserializeOwned", serialize = "C: Serialize"))]
pub struct PeerSnapshot<C> {
    /// The peer's id.
    pub id: PeerId,
    /// The upgrade request.
    pub request: RequestInfo,
    /// The typed context.
    pub context: C,
    /// The subscribed topics.
    pub topics: BTreeSet<Topic>,
}

/// Read access to a peer's context.
pub struct ContextRef<'a, C>(MutexGuard<'a, C>);

impl<C> Deref for ContextRef<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.0
    }
}

/// Write access to a peer's context; marks the peer changed when dropped.
pub struct ContextMut<'a, C> {
    guard: MutexGuard<'a, C>,
    changed: &'a AtomicBool,
}

impl<C> Deref for ContextMut<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.guard
    }
}

impl<C> DerefMut for ContextMut<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.guard
    }
}

impl<C> Drop for ContextMut<'_, C> {
    fn drop(&mut self) {
        self.changed.store(true, Ordering::Release);
    }
}
