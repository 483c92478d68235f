//! The task that sends queued envelopes to Redis, in order, on one connection.

use bytes::Bytes;
use redis::{PushInfo, PushKind, RedisResult, aio::MultiplexedConnection};
use std::sync::Arc;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio_util::sync::CancellationToken;

use crate::{PubSubMode, backoff::Backoff, connection::Connector, shared::Shared};

/// Publications sent per round trip: pipelining keeps their order (one
/// connection, one write stream) while amortising the latency.
const BATCH: usize = 64;

pub(crate) struct Publisher {
    pub(crate) connector: Connector,
    pub(crate) name: String,
    pub(crate) channel: String,
    pub(crate) mode: PubSubMode,
    pub(crate) queue: mpsc::Receiver<Bytes>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) backoff: Backoff,
    pub(crate) cancel: CancellationToken,
}

impl Publisher {
    pub(crate) async fn run(mut self) {
        let mut batch = Vec::with_capacity(BATCH);
        while let Some((mut connection, mut pushes)) = self.connect().await {
            loop {
                let received = tokio::select! {
                    () = self.cancel.cancelled() => return,
                    received = self.queue.recv_many(&mut batch, BATCH) => received,
                    // Only the disconnection notice comes here: noticing it
                    // at once keeps the link state accurate between publications.
                    push = pushes.recv() => match push {
                        Some(PushInfo { kind: PushKind::Disconnection, .. }) | None => {
                            self.shared.link.publisher(false);
                            tracing::warn!(name = %self.name, "xws-redis: publisher lost Redis");
                            break;
                        }
                        Some(_) => continue,
                    },
                };
                if received == 0 {
                    return; // the broker handle is gone
                }
                let count = batch.len() as u64;
                let result = self.publish(&mut connection, &batch).await;
                batch.clear();
                if let Err(error) = result {
                    // Redis may or may not have taken them: resending could
                    // deliver twice, so they count as dropped.
                    self.shared
                        .dropped(count, "the publishing connection failed");
                    self.shared.link.publisher(false);
                    tracing::warn!(%error, name = %self.name, "xws-redis: publisher lost Redis");
                    break;
                }
                self.shared.published(count);
            }
        }
    }

    /// Connects, retrying with backoff; `None` once cancelled.
    async fn connect(&mut self) -> Option<(MultiplexedConnection, UnboundedReceiver<PushInfo>)> {
        loop {
            let (pushes_in, pushes) = mpsc::unbounded_channel();
            let attempt = tokio::select! {
                () = self.cancel.cancelled() => return None,
                attempt = self.connector.open(&self.name, Some(pushes_in)) => attempt,
            };
            match attempt {
                Ok(connection) => {
                    self.backoff.reset();
                    self.shared.link.publisher(true);
                    tracing::info!(name = %self.name, address = self.connector.address(), "xws-redis: publisher connected");
                    return Some((connection, pushes));
                }
                Err(error) => {
                    tracing::warn!(%error, address = self.connector.address(), "xws-redis: publisher cannot connect, retrying");
                }
            }
            if !self.backoff.wait(&self.cancel).await {
                return None;
            }
        }
    }

    async fn publish(
        &self,
        connection: &mut MultiplexedConnection,
        batch: &[Bytes],
    ) -> RedisResult<()> {
        let mut pipeline = redis::pipe();
        for envelope in batch {
            pipeline
                .cmd(self.mode.publish_command())
                .arg(&self.channel)
                .arg(envelope.as_ref())
                .ignore();
        }
        let started = std::time::Instant::now();
        let result = pipeline.exec_async(connection).await;
        xws::metrics::broker_round_trip("redis", "publish", started.elapsed().as_secs_f64());
        result
    }
}
