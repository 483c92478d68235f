//! The topic table one process keeps for its streams, joined to the other
//! instances through a [`FunctionBroker`]. Native targets only: a broker's
//! delivery runs on other threads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
#[cfg(feature = "tokio")]
use std::time::Duration;

use xws::{
    BoxFuture, Delivery, Error, Hub, Message, PeerId, Pending, Topic,
    adapter::{Broker, Envelope, HubTransport, NodeId, Target},
};

use xws::stream::Position;

use crate::StreamTopics;
use crate::queue::{EventQueue, message_event};

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

type Subscribers = Vec<(PeerId, EventQueue)>;

/// The topics of one process's streams, joined to the other instances
/// through a broker.
///
/// A publication is encoded once, delivered to this process's streams and
/// forwarded once to the broker, which hands it to every other instance;
/// each delivers it to its own streams. Streams listen to their topics
/// only: a [`Hub::broadcast`] reaches none of them (as SSE streams on
/// xws-tokio), [`Hub::send_to`] reaches one by id.
pub struct InstanceTopics {
    node: NodeId,
    table: Mutex<HashMap<Topic, Subscribers>>,
    broker: Option<Arc<dyn FunctionBroker>>,
}

impl std::fmt::Debug for InstanceTopics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceTopics")
            .field("node", &self.node)
            .field("broker", &self.broker.is_some())
            .finish_non_exhaustive()
    }
}

impl InstanceTopics {
    /// Topics of this process only: publications reach no other instance.
    pub fn local(node: NodeId) -> Arc<Self> {
        Arc::new(Self {
            node,
            table: Mutex::default(),
            broker: None,
        })
    }

    /// Topics joined to every instance through `broker`, which this starts.
    pub fn with_broker(node: NodeId, broker: Arc<dyn FunctionBroker>) -> Arc<Self> {
        let topics = Arc::new(Self {
            node,
            table: Mutex::default(),
            broker: Some(broker.clone()),
        });
        let receiver: Weak<Self> = Arc::downgrade(&topics);
        broker.start(
            node,
            Arc::new(move |envelope| {
                if let Some(topics) = receiver.upgrade() {
                    topics.receive(envelope);
                }
            }),
        );
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

    /// How many streams of this process listen to `topic`.
    pub fn subscribers(&self, topic: &str) -> usize {
        self.lock().get(topic).map_or(0, Vec::len)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Topic, Subscribers>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Delivers to this process's streams; returns how many got it.
    fn deliver(&self, topic: &Topic, message: &Message, exclude: Option<&PeerId>) -> usize {
        let targets: Subscribers = self.lock().get(topic).cloned().unwrap_or_default();
        if targets.is_empty() {
            return 0;
        }
        let event = message_event(message);
        targets
            .iter()
            .filter(|(id, _)| Some(id) != exclude)
            .filter(|(_, queue)| queue.push(event.clone()).is_ok())
            .count()
    }

    fn send_to(&self, stream: &PeerId, message: &Message) -> bool {
        let queue = self
            .lock()
            .values()
            .flatten()
            .find(|(id, _)| id == stream)
            .map(|(_, queue)| queue.clone());
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
    /// No history here (topics of one process, joined by pub/sub): `since`
    /// recovers nothing, the stream starts live.
    fn subscribe(
        &self,
        stream: &PeerId,
        topic: &Topic,
        queue: &EventQueue,
        _since: Option<&Position>,
    ) -> Result<(), Error> {
        let mut table = self.lock();
        let subscribers = table.entry(topic.clone()).or_default();
        if !subscribers.iter().any(|(id, _)| id == stream) {
            subscribers.push((stream.clone(), queue.clone()));
        }
        Ok(())
    }

    fn unsubscribe(&self, stream: &PeerId, topic: &Topic) {
        let mut table = self.lock();
        if let Some(subscribers) = table.get_mut(topic) {
            subscribers.retain(|(id, _)| id != stream);
            if subscribers.is_empty() {
                table.remove(topic);
            }
        }
    }

    fn publish(
        &self,
        topic: &Topic,
        message: Message,
        exclude: Option<&PeerId>,
    ) -> Result<(), Error> {
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
