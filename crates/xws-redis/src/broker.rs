//! [`RedisBroker`]: the [`xws::adapter::Broker`] on Redis pub/sub.

use bytes::Bytes;
use std::sync::{Arc, Mutex, OnceLock, atomic::Ordering};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use xws::adapter::{Broker, Deliver, Envelope, NodeId};

use crate::{
    BrokerStats, EnvelopeSeal, Error, LinkState, RedisBrokerConfig, backoff::Backoff,
    check_reachable, connection::Connector, publisher::Publisher, shared::Shared, stats::Counters,
    subscriber::Subscriber,
};

/// Joins the topics of several xws nodes through one Redis channel.
///
/// Every node publishes its envelopes to the channel and subscribes to it;
/// each node skips its own envelopes and hands the others to its adapter,
/// which delivers them to its local peers. Envelopes are sealed with the
/// nodes' shared secret ([`RedisBrokerConfig::with_secret`]): what anyone
/// else publishes to the channel is refused and counted. [`forward`](Broker::forward) never
/// waits for Redis: it queues the encoded envelope for a publisher task.
/// Two connections per node (one publishes, one subscribes) reconnect on
/// their own with exponential backoff and jitter.
///
/// Create it inside a Tokio runtime's reach: [`Broker::start`] spawns the
/// two tasks on the current runtime. Dropping the broker stops them.
pub struct RedisBroker {
    config: RedisBrokerConfig,
    connector: Connector,
    seal: EnvelopeSeal,
    shared: Arc<Shared>,
    queue: mpsc::Sender<Bytes>,
    /// The queue's receiving end, until `start` hands it to the publisher.
    pending: Mutex<Option<mpsc::Receiver<Bytes>>>,
    node: OnceLock<NodeId>,
    cancel: CancellationToken,
}

impl RedisBroker {
    /// A broker for `config`, not connected yet: it connects on
    /// [`Broker::start`] and keeps trying while Redis is away. Fails only on a
    /// bad URL or setting, a missing secret included.
    pub fn new(config: RedisBrokerConfig) -> Result<Self, Error> {
        config.validate()?;
        let connector = Connector::new(&config)?;
        let seal = config.seal();
        let (queue, pending) = mpsc::channel(config.queue_capacity);
        Ok(Self {
            config,
            connector,
            seal,
            shared: Arc::default(),
            queue,
            pending: Mutex::new(Some(pending)),
            node: OnceLock::new(),
            cancel: CancellationToken::new(),
        })
    }

    /// Like [`new`](Self::new), but first checks that Redis answers and
    /// supports the mode, so a wrong URL fails at startup, loudly.
    pub async fn connect(config: RedisBrokerConfig) -> Result<Self, Error> {
        let broker = Self::new(config)?;
        check_reachable(&broker.config).await?;
        Ok(broker)
    }

    /// The settings.
    pub fn config(&self) -> &RedisBrokerConfig {
        &self.config
    }

    /// The node this broker serves, once started.
    pub fn node(&self) -> Option<NodeId> {
        self.node.get().copied()
    }

    /// Counters and connection state right now.
    pub fn stats(&self) -> BrokerStats {
        self.shared.counters.snapshot(self.shared.link.get())
    }

    /// Watches the connection state, e.g. to wait for a resubscription.
    pub fn link(&self) -> watch::Receiver<LinkState> {
        self.shared.link.watch()
    }

    /// Resolves once both connections are up. Never resolves if the broker
    /// was not started or Redis stays away: wrap it in a timeout.
    pub async fn ready(&self) {
        // The sender lives in `self`, so the watch cannot close.
        let _ = self.link().wait_for(LinkState::is_ready).await;
    }

    /// Resolves once every envelope [`forward`](Broker::forward)ed before
    /// the call has left the queue: published to Redis, or dropped (see
    /// [`BrokerStats::dropped`]). A function that publishes and then ends
    /// (a serverless invocation, frozen as soon as it answers) awaits this
    /// first, so its publications are not left in the queue. Never resolves
    /// if the broker was not started: wrap it in a timeout.
    pub async fn flushed(&self) {
        let target = self.shared.counters.forwarded.load(Ordering::Relaxed);
        loop {
            let settled = self.shared.settled.notified();
            tokio::pin!(settled);
            // Registered before the check, so a wake-up in between is not lost.
            settled.as_mut().enable();
            if self.shared.settled_count() >= target {
                return;
            }
            settled.await;
        }
    }

    /// The `CLIENT SETNAME` of the publishing and of the subscribing
    /// connection, once started: what to look for in `CLIENT LIST`.
    pub fn connection_names(&self) -> Option<(String, String)> {
        self.node().map(|node| self.names(node))
    }

    fn names(&self, node: NodeId) -> (String, String) {
        let base = format!("xws:{}:{node}", self.config.channel);
        (format!("{base}:pub"), format!("{base}:sub"))
    }
}

impl Broker for RedisBroker {
    fn start(&self, node: NodeId, deliver: Deliver) {
        let Some(queue) = self.pending.lock().ok().and_then(|mut p| p.take()) else {
            tracing::error!(%node, "xws-redis: RedisBroker::start called twice; ignored");
            return;
        };
        let _ = self.node.set(node);
        let runtime = tokio::runtime::Handle::try_current()
            .expect("xws-redis: RedisBroker::start must be called inside a Tokio runtime");
        let (publisher_name, subscriber_name) = self.names(node);
        runtime.spawn(
            Publisher {
                connector: self.connector.clone(),
                name: publisher_name,
                channel: self.config.channel.clone(),
                mode: self.config.mode,
                queue,
                shared: self.shared.clone(),
                backoff: Backoff::new(&self.config),
                cancel: self.cancel.clone(),
            }
            .run(),
        );
        runtime.spawn(
            Subscriber {
                connector: self.connector.clone(),
                name: subscriber_name,
                channel: self.config.channel.clone(),
                mode: self.config.mode,
                node,
                deliver,
                seal: self.seal.clone(),
                max_envelope_size: self.config.max_envelope_size,
                receive_capacity: self.config.receive_capacity,
                shared: self.shared.clone(),
                backoff: Backoff::new(&self.config),
                health_check_interval: self.config.health_check_interval,
                cancel: self.cancel.clone(),
            }
            .run(),
        );
    }

    fn forward(&self, envelope: &Envelope) {
        // The one serialisation of this publication, whatever the number of
        // nodes and subscribers.
        Counters::add(&self.shared.counters.forwarded, 1);
        let encoded = envelope.encode();
        if encoded.len() > self.config.max_envelope_size {
            tracing::warn!(
                size = encoded.len(),
                limit = self.config.max_envelope_size,
                "xws-redis: a publication is larger than the envelope size limit; other nodes do not get it"
            );
            self.shared.dropped(1, "an envelope exceeds the size limit");
            return;
        }
        if self.queue.try_send(self.seal.seal(&encoded)).is_err() {
            self.shared
                .dropped(1, "the publish queue is full (Redis slow or away)");
        }
    }
}

impl Drop for RedisBroker {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
