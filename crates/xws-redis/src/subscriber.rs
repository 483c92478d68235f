//! The task that listens on the channel and hands other nodes' envelopes to
//! the adapter, resubscribing after every connection loss.

use bytes::Bytes;
use redis::{PushInfo, PushKind, Value, aio::MultiplexedConnection};
use std::{sync::Arc, time::Duration};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use xws::adapter::{Deliver, Envelope, NodeId};

use crate::{PubSubMode, backoff::Backoff, connection::Connector, shared::Shared, stats::Counters};

pub(crate) struct Subscriber {
    pub(crate) connector: Connector,
    pub(crate) name: String,
    pub(crate) channel: String,
    pub(crate) mode: PubSubMode,
    pub(crate) node: NodeId,
    pub(crate) deliver: Deliver,
    pub(crate) shared: Arc<Shared>,
    pub(crate) backoff: Backoff,
    pub(crate) health_check_interval: Duration,
    pub(crate) cancel: CancellationToken,
}

impl Subscriber {
    pub(crate) async fn run(mut self) {
        loop {
            let (pushes_in, mut pushes) = mpsc::unbounded_channel();
            let attempt = tokio::select! {
                () = self.cancel.cancelled() => return,
                attempt = self.subscribe(pushes_in) => attempt,
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
        pushes: mpsc::UnboundedSender<PushInfo>,
    ) -> redis::RedisResult<MultiplexedConnection> {
        let mut connection = self.connector.open(&self.name, Some(pushes)).await?;
        redis::cmd(self.mode.subscribe_command())
            .arg(&self.channel)
            .exec_async(&mut connection)
            .await?;
        Ok(connection)
    }

    /// Delivers until the connection is lost or the broker is dropped.
    async fn listen(
        &self,
        mut connection: MultiplexedConnection,
        pushes: &mut mpsc::UnboundedReceiver<PushInfo>,
    ) {
        let mut health_check = tokio::time::interval(self.health_check_interval);
        health_check.tick().await;
        loop {
            tokio::select! {
                () = self.cancel.cancelled() => return,
                push = pushes.recv() => match push {
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

    /// `data` is `[channel, payload]`.
    fn handle(&self, data: Vec<Value>) {
        let counters = &self.shared.counters;
        let envelope = match data.into_iter().nth(1) {
            Some(Value::BulkString(payload)) => Envelope::decode(Bytes::from(payload)),
            _ => Err(xws::Error::malformed("envelope", "not a bulk string")),
        };
        match envelope {
            Ok(envelope) if envelope.origin == self.node => {
                Counters::add(&counters.own_skipped, 1);
            }
            Ok(envelope) => {
                Counters::add(&counters.received, 1);
                (self.deliver)(envelope);
            }
            Err(error) => {
                Counters::add(&counters.malformed, 1);
                tracing::warn!(%error, channel = %self.channel, "xws-redis: skipped a message that is not an xws envelope");
            }
        }
    }
}
