//! Publishing from anywhere: the [`HubTransport`] over DynamoDB and the
//! Management API.

use std::{future::Future, sync::Arc};
use xws::{Delivery, Error, Message, PeerId, Pending, Topic, adapter::HubTransport};

use crate::{Aws, Reach, fanout::fan_out, now_ms};

/// The AWS side of a [`xws::Hub`]; get one from [`Aws::hub`].
#[derive(Debug, Clone)]
pub struct AwsHub {
    aws: Arc<Aws>,
    endpoint: String,
}

impl AwsHub {
    /// A hub posting through `endpoint`.
    pub fn new(aws: Arc<Aws>, endpoint: impl Into<String>) -> Self {
        Self {
            aws,
            endpoint: endpoint.into(),
        }
    }

    /// Publishes to `topic`'s subscribers: one `Query`, then one
    /// `PostToConnection` per subscriber.
    pub async fn publish(
        &self,
        topic: &Topic,
        message: &Message,
        exclude: Option<&str>,
    ) -> Result<Delivery, Error> {
        let ids = self.aws.table.subscribers(topic.as_str()).await?;
        fan_out(
            &self.aws,
            &self.endpoint,
            ids,
            exclude,
            Some(topic.as_str()),
            message,
        )
        .await
    }
}

impl AwsHub {
    /// Spawns `work` now, so a caller that drops the [`Pending`] still
    /// publishes. The function's runtime keeps polling it; an invocation
    /// that must not end before it completes awaits the result.
    fn start<T: Send + 'static>(
        work: impl Future<Output = Result<T, Error>> + Send + 'static,
    ) -> Pending<T> {
        let task = tokio::spawn(work);
        Pending::started(async move { task.await.map_err(Error::transport)? })
    }
}

impl HubTransport for AwsHub {
    fn publish(
        &self,
        topic: Topic,
        message: Message,
        exclude: Option<PeerId>,
    ) -> Pending<Delivery> {
        let hub = self.clone();
        Self::start(async move {
            let exclude = exclude.as_ref().map(PeerId::as_str);
            AwsHub::publish(&hub, &topic, &message, exclude).await
        })
    }

    fn broadcast(&self, message: Message) -> Pending<Delivery> {
        let hub = self.clone();
        Self::start(async move {
            let ids = hub.aws.table.connections().await?;
            fan_out(&hub.aws, &hub.endpoint, ids, None, None, &message).await
        })
    }

    fn send_to(&self, peer: PeerId, message: Message) -> Pending<bool> {
        let hub = self.clone();
        Self::start(async move {
            crate::gateway::check_size(&message)?;
            match hub
                .aws
                .gateway
                .post(&hub.endpoint, peer.as_str(), &message)
                .await?
            {
                Reach::Delivered => Ok(true),
                Reach::Gone => {
                    let cutoff = now_ms() - hub.aws.config.connect_grace.as_millis() as i64;
                    hub.aws
                        .table
                        .remove_stale(peer.as_str(), None, cutoff)
                        .await?;
                    Ok(false)
                }
            }
        })
    }

    fn peers(&self) -> Pending<Vec<PeerId>> {
        let hub = self.clone();
        Self::start(async move {
            let ids = hub.aws.table.connections().await?;
            Ok(ids.into_iter().map(PeerId::from).collect())
        })
    }
}
