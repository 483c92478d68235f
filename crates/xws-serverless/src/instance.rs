//! The topic table one process keeps for its streams, joined to the other
//! instances through a [`FunctionBroker`], and, for topics that keep
//! history, to a [`StreamStore`] they all share (see [`crate::history`]).
//! Native targets only: a broker's delivery runs on other threads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
#[cfg(feature = "tokio")]
use std::time::Duration;

use futures_channel::oneshot;
use xws::{
    BoxFuture, Delivery, Error, Hub, Message, PeerId, Pending, Topic,
    adapter::{Broker, Envelope, HubTransport, NodeId, Target},
    stream::{Position, Publication, Retention, StreamConfig, StreamStore},
};

use crate::history::{History, HistoryStats, Spawn, run_appends};
use crate::queue::{EventQueue, message_event};
use crate::{Runtime, StreamTopics};

/// A [`Broker`] a function can publish through and then end: `flushed`
/// resolves once everything forwarded has left the process, since an
/// invocation may be frozen as soon as it answers.
pub trait FunctionBroker: Broker {
    /// Resolves once every envelope forwarded so far has left the process.
    fn flushed(&self) -> BoxFuture<'_, ()>;
}

#[cfg(feature = "redis")]
impl FunctionBroker for xws_redis::RedisBroker {
    fn flushed(&self) -> BoxFuture<'_, ()> {
        Box::pin(xws_redis::RedisBroker::flushed(self))
    }
}

type Subscribers = Vec<Subscriber>;

/// One stream listening to a topic.
#[derive(Clone)]
pub(crate) struct Subscriber {
    pub(crate) id: PeerId,
    pub(crate) queue: EventQueue,
    pub(crate) stage: Stage,
}

/// Where a stream stands in a topic.
#[derive(Clone)]
pub(crate) enum Stage {
    /// A topic without history: publications come as they are, without id.
    Plain,
    /// The topic's history is being read for it: live publications wait.
    Preparing(Vec<Publication>),
    /// Live past this position (`None`: the history could not be read; the
    /// first publication sets it).
    Live(Option<Position>),
}

/// The topics of one process's streams, joined to the other instances
/// through a broker.
///
/// A publication is encoded once, delivered to this process's streams and
/// forwarded once to the broker, which hands it to every other instance;
/// each delivers it to its own streams. Streams listen to their topics
/// only: a [`Hub::broadcast`] reaches none of them (as SSE streams on
/// xws-tokio), [`Hub::send_to`] reaches one by id.
///
/// Topics that keep history ([`with_history`](Self::with_history)) are
/// appended to a store every instance shares instead: their publications
/// carry their position as the SSE `id:`, and a stream opened with
/// `Last-Event-ID` gets what it missed first, then `event: recovered`.
pub struct InstanceTopics {
    node: NodeId,
    table: Mutex<HashMap<Topic, Subscribers>>,
    broker: Option<Arc<dyn FunctionBroker>>,
    pub(crate) history: Option<History>,
    /// Subscriptions being prepared, by stream, for [`StreamTopics::subscribed`].
    preparing: Mutex<HashMap<PeerId, Vec<oneshot::Receiver<()>>>>,
    /// Itself, for the background reads of its subscriptions.
    me: Weak<Self>,
}

impl std::fmt::Debug for InstanceTopics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceTopics")
            .field("node", &self.node)
            .field("broker", &self.broker.is_some())
            .field("history", &self.history.as_ref().map(|h| &h.config))
            .finish_non_exhaustive()
    }
}

impl InstanceTopics {
    /// Publications to topics with history that may wait for the store (or
    /// be appended) at once, unless
    /// [`with_history_append_capacity`](Self::with_history_append_capacity)
    /// says otherwise: as many as xws-tokio's stream engine holds. Past it
    /// a publication is refused with [`Error::QueueFull`] and counted in
    /// [`HistoryStats::overflowed`].
    pub const DEFAULT_APPEND_CAPACITY: usize = 4096;

    /// Topics of this process only: publications reach no other instance.
    pub fn local(node: NodeId) -> Arc<Self> {
        Self::build(node, None, None)
    }

    /// Topics joined to every instance through `broker`, which this starts.
    pub fn with_broker(node: NodeId, broker: Arc<dyn FunctionBroker>) -> Arc<Self> {
        Self::build(node, Some(broker), None)
    }

    /// Topics joined through `broker` (if any), where those that `streams`
    /// says keep history are kept in `store`, shared by every instance
    /// (`xws_redis::RedisStreams` on the broker's Redis; a `MemoryStore`
    /// serves one instance only). `runtime` runs the reads and appends.
    /// Serve once the store's feed is up (`RedisStreams::feed_ready`), so
    /// the first stream misses no announcement;
    /// [`instance_topics_from_env_with`](crate::instance_topics_from_env_with)
    /// waits for it.
    ///
    /// Appends go through one queue of
    /// [`DEFAULT_APPEND_CAPACITY`](Self::DEFAULT_APPEND_CAPACITY)
    /// publications.
    pub fn with_history(
        node: NodeId,
        broker: Option<Arc<dyn FunctionBroker>>,
        streams: StreamConfig,
        store: Arc<dyn StreamStore>,
        runtime: impl Runtime,
    ) -> Arc<Self> {
        Self::with_history_append_capacity(
            node,
            broker,
            streams,
            store,
            runtime,
            Self::DEFAULT_APPEND_CAPACITY,
        )
    }

    /// [`with_history`](Self::with_history), where at most
    /// `append_capacity` publications (at least 1) wait for the store or
    /// are being appended. When the store is slow or away and they are
    /// that many, a further publication is refused at once with
    /// [`Error::QueueFull`] (a hub's `publish` and a stream's
    /// `Peer::publish` return it), counted in [`HistoryStats::overflowed`]
    /// and logged at the 1st, 2nd, 4th… refusal: nothing waits without
    /// bound, nothing is lost unsaid.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use xws::{adapter::NodeId, stream::{MemoryStore, Retention, StreamConfig, TopicPolicy}};
    /// use xws_serverless::{InstanceTopics, TokioRuntime};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let retention = Retention::new(100, Duration::from_secs(3600));
    /// let streams = StreamConfig::new().rule("jobs", TopicPolicy::history(retention));
    /// let topics = InstanceTopics::with_history_append_capacity(
    ///     NodeId(1),
    ///     None,
    ///     streams,
    ///     Arc::new(MemoryStore::new("e1")),
    ///     TokioRuntime,
    ///     256,
    /// );
    /// topics.hub().publish("jobs", "started").await.unwrap();
    /// let stats = topics.history_stats().unwrap();
    /// assert_eq!((stats.capacity, stats.overflowed), (256, 0));
    /// # }
    /// ```
    pub fn with_history_append_capacity(
        node: NodeId,
        broker: Option<Arc<dyn FunctionBroker>>,
        streams: StreamConfig,
        store: Arc<dyn StreamStore>,
        runtime: impl Runtime,
        append_capacity: usize,
    ) -> Arc<Self> {
        let spawn: Spawn = Arc::new(move |task| runtime.spawn(task));
        Self::build(node, broker, Some((streams, store, append_capacity, spawn)))
    }

    fn build(
        node: NodeId,
        broker: Option<Arc<dyn FunctionBroker>>,
        history: Option<(StreamConfig, Arc<dyn StreamStore>, usize, Spawn)>,
    ) -> Arc<Self> {
        let mut jobs = None;
        let topics = Arc::new_cyclic(|me: &Weak<Self>| {
            let history = history.map(|(config, store, capacity, spawn)| {
                let (history, queue) = History::start(config, store, capacity, spawn, me.clone());
                jobs = Some(queue);
                history
            });
            Self {
                node,
                table: Mutex::default(),
                broker,
                history,
                preparing: Mutex::default(),
                me: me.clone(),
            }
        });
        if let (Some(history), Some(jobs)) = (&topics.history, jobs) {
            (history.spawn)(Box::pin(run_appends(Arc::downgrade(&topics), jobs)));
        }
        if let Some(broker) = &topics.broker {
            let receiver: Weak<Self> = Arc::downgrade(&topics);
            broker.start(
                node,
                Arc::new(move |envelope| {
                    if let Some(topics) = receiver.upgrade() {
                        topics.receive(envelope);
                    }
                }),
            );
        }
        topics
    }

    /// This instance's node id.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// A hub for publishing from a function (an HTTP route, a cron job): its
    /// `publish` returns once the broker has taken the publication, so the
    /// invocation may end right after.
    pub fn hub(self: &Arc<Self>) -> Hub {
        Hub::new(Arc::new(InstanceHub(self.clone())))
    }

    /// The history's append queue: how full it is and how many
    /// publications it refused; `None` without history.
    pub fn history_stats(&self) -> Option<HistoryStats> {
        self.history.as_ref().map(History::stats)
    }

    /// How many streams of this process listen to `topic`.
    pub fn subscribers(&self, topic: &str) -> usize {
        self.lock().get(topic).map_or(0, Vec::len)
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Topic, Subscribers>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_preparing(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<PeerId, Vec<oneshot::Receiver<()>>>> {
        self.preparing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn me(&self) -> Option<Arc<Self>> {
        self.me.upgrade()
    }

    /// The history `topic` keeps here, if any.
    fn history_of(&self, topic: &Topic) -> Option<(&History, Retention)> {
        let history = self.history.as_ref()?;
        Some((history, history.config.retention(topic.as_str())?))
    }

    /// The live streams of `topic` here, `exclude` apart.
    fn live(&self, topic: &Topic, exclude: Option<&PeerId>) -> Vec<EventQueue> {
        self.lock()
            .get(topic)
            .into_iter()
            .flatten()
            .filter(|s| Some(&s.id) != exclude && !matches!(s.stage, Stage::Preparing(_)))
            .map(|s| s.queue.clone())
            .collect()
    }

    /// Delivers to this process's streams; returns how many got it.
    fn deliver(&self, topic: &Topic, message: &Message, exclude: Option<&PeerId>) -> usize {
        let targets = self.live(topic, exclude);
        if targets.is_empty() {
            return 0;
        }
        let event = message_event(message);
        targets
            .iter()
            .filter(|queue| queue.push(event.clone()).is_ok())
            .count()
    }

    fn send_to(&self, stream: &PeerId, message: &Message) -> bool {
        let queue = self
            .lock()
            .values()
            .flatten()
            .find(|s| &s.id == stream)
            .map(|s| s.queue.clone());
        queue.is_some_and(|queue| queue.send(message).is_ok())
    }

    /// An envelope from another instance.
    fn receive(&self, envelope: Envelope) {
        match &envelope.target {
            Target::Topic { topic, exclude } => {
                self.deliver(topic, &envelope.message, exclude.as_ref());
            }
            Target::Peer(stream) => {
                self.send_to(stream, &envelope.message);
            }
            Target::Broadcast => {}
        }
    }

    fn forward(&self, target: Target, message: Message) {
        if let Some(broker) = &self.broker {
            broker.forward(&Envelope {
                origin: self.node,
                target,
                message,
            });
        }
    }

    async fn flushed(&self) -> Result<(), Error> {
        let Some(broker) = &self.broker else {
            return Ok(());
        };
        // A plain timer would tie this to one runtime; the broker's own
        // tasks run on Tokio wherever a FunctionBroker exists today.
        #[cfg(feature = "tokio")]
        {
            /// How long a publisher waits for the broker to take a publication.
            const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
            tokio::time::timeout(FLUSH_TIMEOUT, broker.flushed())
                .await
                .map_err(|_| {
                    Error::transport(format!(
                        "the broker did not take the publication within {FLUSH_TIMEOUT:?}"
                    ))
                })
        }
        #[cfg(not(feature = "tokio"))]
        {
            broker.flushed().await;
            Ok(())
        }
    }
}

impl StreamTopics for InstanceTopics {
    /// A topic with history replays what the stream missed after `since`
    /// (then `event: recovered`), once [`subscribed`](Self::subscribed);
    /// another starts live.
    fn subscribe(
        &self,
        stream: &PeerId,
        topic: &Topic,
        queue: &EventQueue,
        since: Option<&Position>,
    ) -> Result<(), Error> {
        let history = self.history_of(topic);
        {
            let mut table = self.lock();
            let subscribers = table.entry(topic.clone()).or_default();
            if subscribers.iter().any(|s| &s.id == stream) {
                return Ok(());
            }
            subscribers.push(Subscriber {
                id: stream.clone(),
                queue: queue.clone(),
                stage: match history {
                    Some(_) => Stage::Preparing(Vec::new()),
                    None => Stage::Plain,
                },
            });
        }
        let Some((history, retention)) = history else {
            return Ok(());
        };
        let Some(me) = self.me() else {
            return Err(Error::transport("the topics are being dropped"));
        };
        let readied = me.prepare(history, stream, topic, retention, since);
        self.lock_preparing()
            .entry(stream.clone())
            .or_default()
            .push(readied);
        Ok(())
    }

    fn unsubscribe(&self, stream: &PeerId, topic: &Topic) {
        let mut table = self.lock();
        if let Some(subscribers) = table.get_mut(topic) {
            subscribers.retain(|s| &s.id != stream);
            if subscribers.is_empty() {
                table.remove(topic);
            }
        }
        drop(table);
        self.lock_preparing().remove(stream);
    }

    fn publish(
        &self,
        topic: &Topic,
        message: Message,
        exclude: Option<&PeerId>,
    ) -> Result<(), Error> {
        if let Some((history, retention)) = self.history_of(topic) {
            return history.append(topic, retention, message, exclude.cloned(), None);
        }
        self.deliver(topic, &message, exclude);
        self.forward(
            Target::Topic {
                topic: topic.clone(),
                exclude: exclude.cloned(),
            },
            message,
        );
        Ok(())
    }

    /// Waits until the stream's topics with history have replayed what it
    /// missed and are live.
    fn subscribed(&self, stream: &PeerId) -> BoxFuture<'_, Result<(), Error>> {
        let waiting = self.lock_preparing().remove(stream).unwrap_or_default();
        Box::pin(async move {
            for readied in waiting {
                let _ = readied.await;
            }
            Ok(())
        })
    }
}

/// [`InstanceTopics`] as a [`Hub`]'s transport.
struct InstanceHub(Arc<InstanceTopics>);

impl HubTransport for InstanceHub {
    // Delivery here and the broker forward happen while called; the result
    // waits until the broker has the publication, so an invocation that
    // awaits it can end without losing it.
    fn publish(
        &self,
        topic: Topic,
        message: Message,
        exclude: Option<PeerId>,
    ) -> Pending<Delivery> {
        if let Some((history, retention)) = self.0.history_of(&topic) {
            // Delivered from the store's feed, on every instance: counted
            // here are this instance's streams it is on its way to.
            let delivered = self.0.live(&topic, exclude.as_ref()).len();
            let (done, appended) = oneshot::channel();
            if let Err(error) = history.append(&topic, retention, message, exclude, Some(done)) {
                return Pending::ready(Err(error));
            }
            return Pending::started(async move {
                match appended.await {
                    Ok(Ok(_)) => Ok(Delivery { delivered }),
                    Ok(Err(error)) => Err(error),
                    Err(_) => Err(Error::transport("the history's append queue stopped")),
                }
            });
        }
        let delivered = self.0.deliver(&topic, &message, exclude.as_ref());
        self.0.forward(Target::Topic { topic, exclude }, message);
        let topics = Arc::clone(&self.0);
        Pending::started(async move {
            topics.flushed().await?;
            Ok(Delivery { delivered })
        })
    }

    fn broadcast(&self, message: Message) -> Pending<Delivery> {
        let _ = message;
        // Streams listen to their topics only, here and on every instance.
        Pending::ready(Ok(Delivery::default()))
    }

    fn send_to(&self, peer: PeerId, message: Message) -> Pending<bool> {
        if self.0.send_to(&peer, &message) {
            return Pending::ready(Ok(true));
        }
        // Somewhere else, perhaps: the instance holding it delivers.
        self.0.forward(Target::Peer(peer), message);
        let topics = Arc::clone(&self.0);
        Pending::started(async move {
            topics.flushed().await?;
            Ok(false)
        })
    }

    fn peers(&self) -> Pending<Vec<PeerId>> {
        Pending::ready(Err(Error::Unsupported {
            target: "a serverless function",
            capability: "peers listing",
            alternative: "keep a registry of streams in a database",
        }))
    }
}
