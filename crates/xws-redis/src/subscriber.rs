//! The task that listens on the channel and hands other nodes' envelopes to
//! the adapter, resubscribing after every connection loss.

use bytes::Bytes;
use redis::{PushInfo, PushKind, Value, aio::MultiplexedConnection};
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_util::sync::CancellationToken;
use xws::adapter::{Deliver, Envelope, NodeId};

use crate::{
    EnvelopeSeal, PubSubMode, backoff::Backoff, connection::Connector, shared::Shared,
    stats::Counters,
};

/// What the connection hands over: a bounded queue, and a flag for the
/// disconnection notice (which must not be lost when the queue is full).
struct Pushes {
    queue: mpsc::Receiver<PushInfo>,
    disconnected: Arc<AtomicBool>,
}

pub(crate) struct Subscriber {
    pub(crate) connector: Connector,
    pub(crate) name: String,
    pub(crate) channel: String,
    pub(crate) mode: PubSubMode,
    pub(crate) node: NodeId,
    pub(crate) deliver: Deliver,
    pub(crate) seal: EnvelopeSeal,
    pub(crate) max_envelope_size: usize,
    pub(crate) receive_capacity: usize,
    pub(crate) shared: Arc<Shared>,
    pub(crate) backoff: Backoff,
    pub(crate) health_check_interval: Duration,
    pub(crate) cancel: CancellationToken,
}

impl Subscriber {
    pub(crate) async fn run(mut self) {
        loop {
            let (sender, queue) = mpsc::channel(self.receive_capacity);
            let disconnected = Arc::new(AtomicBool::new(false));
            let mut pushes = Pushes {
                queue,
                disconnected: Arc::clone(&disconnected),
            };
            let shared = Arc::clone(&self.shared);
            // Runs on the connection's task: it must not wait. A full queue
            // drops the newest envelope and counts it.
            let push_sender = move |push: PushInfo| {
                if push.kind == PushKind::Disconnection {
                    disconnected.store(true, Ordering::Release);
                }
                match sender.try_send(push) {
                    Ok(()) => Ok(()),
                    Err(TrySendError::Full(_)) => {
                        if let Some(count) = Counters::add_one_and_tell(&shared.counters.overflowed)
                        {
                            tracing::warn!(
                                total = count,
                                "xws-redis: the receive queue is full; dropping envelopes from other nodes"
                            );
                        }
                        Ok(())
                    }
                    Err(TrySendError::Closed(_)) => Err(()),
                }
            };
            let attempt = tokio::select! {
                () = self.cancel.cancelled() => return,
                attempt = self.subscribe(push_sender) => attempt,
            };
            match attempt {
                Ok(connection) => {
                    self.backoff.reset();
                    self.shared.link.subscriber(true);
                    tracing::info!(name = %self.name, channel = %self.channel, "xws-redis: subscribed");
                    self.listen(connection, &mut pushes).await;
                    self.shared.link.subscriber(false);
                }
                Err(error) => {
                    tracing::warn!(%error, address = self.connector.address(), "xws-redis: subscriber cannot connect, retrying");
                }
            }
            if self.cancel.is_cancelled() || !self.backoff.wait(&self.cancel).await {
                return;
            }
        }
    }

    async fn subscribe(
        &self,
        pushes: impl redis::aio::AsyncPushSender,
    ) -> redis::RedisResult<MultiplexedConnection> {
        let mut connection = self.connector.open(&self.name, Some(pushes)).await?;
        redis::cmd(self.mode.subscribe_command())
            .arg(&self.channel)
            .exec_async(&mut connection)
            .await?;
        Ok(connection)
    }

    /// Delivers until the connection is lost or the broker is dropped.
    async fn listen(&self, mut connection: MultiplexedConnection, pushes: &mut Pushes) {
        let mut health_check = tokio::time::interval(self.health_check_interval);
        health_check.tick().await;
        loop {
            tokio::select! {
                () = self.cancel.cancelled() => return,
                push = pushes.queue.recv() => match push {
                    _ if pushes.disconnected.load(Ordering::Acquire) => {
                        tracing::warn!(name = %self.name, "xws-redis: subscriber lost Redis, resubscribing");
                        return;
                    }
                    Some(PushInfo { kind: PushKind::Message | PushKind::SMessage, data }) => self.handle(data),
                    Some(PushInfo { kind: PushKind::Disconnection, .. }) | None => {
                        tracing::warn!(name = %self.name, "xws-redis: subscriber lost Redis, resubscribing");
                        return;
                    }
                    Some(PushInfo { kind: PushKind::Unsubscribe | PushKind::SUnsubscribe, .. }) => {
                        // The server dropped the subscription (a shard's slot
                        // moved, for instance): start over on a new connection.
                        tracing::warn!(name = %self.name, "xws-redis: unsubscribed by the server, resubscribing");
                        return;
                    }
                    Some(_) => {}
                },
                _ = health_check.tick() => {
                    if let Err(error) = redis::cmd("PING").exec_async(&mut connection).await {
                        tracing::warn!(%error, name = %self.name, "xws-redis: health check failed, resubscribing");
                        return;
                    }
                }
            }
        }
    }

    /// `data` is `[channel, payload]`: a sealed envelope from another node,
    /// or something to refuse and count.
    fn handle(&self, data: Vec<Value>) {
        let counters = &self.shared.counters;
        let Some(Value::BulkString(payload)) = data.into_iter().nth(1) else {
            self.skip(&counters.malformed, "a message that is not a bulk string");
            return;
        };
        if payload.len() > self.max_envelope_size + crate::seal::OVERHEAD {
            self.skip(
                &counters.oversized,
                "a message larger than the envelope size limit",
            );
            return;
        }
        let envelope = match self.seal.open(&Bytes::from(payload)) {
            Ok(envelope) => envelope,
            Err(refusal) => {
                self.skip(&counters.refused, refusal.as_str());
                return;
            }
        };
        match Envelope::decode(envelope) {
            Ok(envelope) if envelope.origin == self.node => {
                Counters::add(&counters.own_skipped, 1);
            }
            Ok(envelope) => {
                Counters::add(&counters.received, 1);
                (self.deliver)(envelope);
            }
            Err(error) => {
                // Sealed by a node of ours, yet not an envelope: a version
                // mismatch between nodes, most likely.
                tracing::warn!(%error, channel = %self.channel, "xws-redis: skipped a sealed message that is not an xws envelope");
                Counters::add(&counters.malformed, 1);
            }
        }
    }

    /// Counts a refused message; logs it when the count reaches a power of
    /// two (anyone who can publish to the channel can repeat it at will).
    fn skip(&self, counter: &AtomicU64, what: &str) {
        if let Some(total) = Counters::add_one_and_tell(counter) {
            tracing::warn!(what, total, channel = %self.channel, "xws-redis: refused a message on the channel");
        }
    }
}
