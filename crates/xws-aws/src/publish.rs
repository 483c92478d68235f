//! Delivery to many connections: the one publish path that hooks (a peer's
//! `publish`) and the [`xws::Hub`] both take.
//!
//! The message size was checked where the message entered the adapter
//! ([`crate::to_wire`]); nothing here checks or encodes it again.

use futures_util::{StreamExt, stream};
use xws::{Delivery, Message, Topic};

use crate::{Aws, AwsError, Reach, now_ms};

impl Aws {
    /// Posts `message` to `topic`'s subscribers but `exclude`: one `Query`
    /// (a page per 1 MB of ids), then one `PostToConnection` each.
    pub(crate) async fn publish(
        &self,
        endpoint: &str,
        topic: &Topic,
        message: &Message,
        exclude: Option<&str>,
    ) -> Result<Delivery, xws::Error> {
        let ids = self.registry.subscribers(topic.as_str()).await?;
        self.fan_out(endpoint, ids, exclude, Some(topic), message)
            .await
    }

    /// Posts `message` to every connection: one `Query`, then the posts.
    pub(crate) async fn broadcast(
        &self,
        endpoint: &str,
        message: &Message,
    ) -> Result<Delivery, xws::Error> {
        let ids = self.registry.connections().await?;
        self.fan_out(endpoint, ids, None, None, message).await
    }

    /// Posts `message` to connection `id`; `false` when it is gone (and its
    /// stale item is removed).
    pub(crate) async fn send_to(
        &self,
        endpoint: &str,
        id: &str,
        message: &Message,
    ) -> Result<bool, AwsError> {
        match self.management.post(endpoint, id, message).await? {
            Reach::Delivered => Ok(true),
            Reach::Gone => {
                self.registry
                    .remove_stale(id, None, self.stale_cutoff())
                    .await?;
                Ok(false)
            }
        }
    }

    /// Connections that answer `410` and opened before this are stale.
    fn stale_cutoff(&self) -> i64 {
        now_ms() - self.config.connect_grace.as_millis() as i64
    }

    /// Posts `message` to every id but `exclude`, `fanout_concurrency` at a
    /// time.
    ///
    /// A `410 Gone` removes that stale connection (and its `topic`
    /// subscription) and the fan-out goes on; other failures are logged and
    /// the fan-out goes on too. It fails only when every post failed.
    pub(crate) async fn fan_out(
        &self,
        endpoint: &str,
        ids: Vec<String>,
        exclude: Option<&str>,
        topic: Option<&Topic>,
        message: &Message,
    ) -> Result<Delivery, xws::Error> {
        let targets: Vec<String> = ids
            .into_iter()
            .filter(|id| Some(id.as_str()) != exclude)
            .collect();
        let total = targets.len();
        let started = std::time::Instant::now();
        let cutoff = self.stale_cutoff();
        let topic = topic.map(Topic::as_str);
        let results: Vec<_> = stream::iter(targets)
            .map(|id| async move {
                let reach = self.management.post(endpoint, &id, message).await;
                if let Ok(Reach::Gone) = reach
                    && let Err(e) = self.registry.remove_stale(&id, topic, cutoff).await
                {
                    tracing::warn!(connection = %id, error = %e, "could not remove a stale connection");
                }
                reach
            })
            .buffer_unordered(self.config.fanout_concurrency)
            .collect()
            .await;
        let mut delivered = 0;
        let mut first_error = None;
        let mut failed = 0;
        for result in results {
            match result {
                Ok(Reach::Delivered) => delivered += 1,
                Ok(Reach::Gone) => {}
                Err(e) => {
                    failed += 1;
                    tracing::warn!(error = %e, "post failed during fan-out");
                    first_error.get_or_insert(e);
                }
            }
        }
        let pattern = topic.unwrap_or(xws::metrics::BROADCAST_PATTERN);
        xws::metrics::delivered(pattern, delivered, started.elapsed().as_secs_f64());
        xws::metrics::messages_out(delivered as u64, delivered * message.len());
        match first_error {
            Some(e) if failed == total => Err(e.into()),
            _ => Ok(Delivery { delivered }),
        }
    }
}
