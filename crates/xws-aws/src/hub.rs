//! Publishing from anywhere: the [`HubTransport`] over DynamoDB and the
//! Management API.

use std::sync::Arc;
use xws::{BoxFuture, Delivery, Error, Message, PeerId, Topic, adapter::HubTransport};

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

impl HubTransport for AwsHub {
    fn publish(
        &self,
        topic: Topic,
        message: Message,
        exclude: Option<PeerId>,
    ) -> BoxFuture<'_, Result<Delivery, Error>> {
        Box::pin(async move {
            AwsHub::publish(self, &topic, &message, exclude.as_ref().map(PeerId::as_str)).await
        })
    }

    fn broadcast(&self, message: Message) -> BoxFuture<'_, Result<Delivery, Error>> {
        Box::pin(async move {
            let ids = self.aws.table.connections().await?;
            fan_out(&self.aws, &self.endpoint, ids, None, None, &message).await
        })
    }

    fn send_to(&self, peer: PeerId, message: Message) -> BoxFuture<'_, Result<bool, Error>> {
        Box::pin(async move {
            crate::gateway::check_size(&message)?;
            match self
                .aws
                .gateway
                .post(&self.endpoint, peer.as_str(), &message)
                .await?
            {
                Reach::Delivered => Ok(true),
                Reach::Gone => {
                    let cutoff = now_ms() - self.aws.config.connect_grace.as_millis() as i64;
                    self.aws
                        .table
                        .remove_stale(peer.as_str(), None, cutoff)
                        .await?;
                    Ok(false)
                }
            }
        })
    }

    fn peers(&self) -> BoxFuture<'_, Result<Vec<PeerId>, Error>> {
        Box::pin(async move {
            let ids = self.aws.table.connections().await?;
            Ok(ids.into_iter().map(PeerId::from).collect())
        })
    }
}
