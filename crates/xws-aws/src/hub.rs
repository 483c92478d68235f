//! Publishing from anywhere: the [`HubTransport`] over the publish path of
//! [`crate::publish`].

use std::sync::Arc;
use xws::{BoxFuture, Delivery, Error, Message, PeerId, Topic, adapter::HubTransport};

use crate::{Aws, check_size};

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
}

impl HubTransport for AwsHub {
    fn publish(
        &self,
        topic: Topic,
        message: Message,
        exclude: Option<PeerId>,
    ) -> BoxFuture<'_, Result<Delivery, Error>> {
        Box::pin(async move {
            check_size(&message)?;
            let exclude = exclude.as_ref().map(PeerId::as_str);
            self.aws
                .publish(&self.endpoint, &topic, &message, exclude)
                .await
        })
    }

    fn broadcast(&self, message: Message) -> BoxFuture<'_, Result<Delivery, Error>> {
        Box::pin(async move {
            check_size(&message)?;
            self.aws.broadcast(&self.endpoint, &message).await
        })
    }

    fn send_to(&self, peer: PeerId, message: Message) -> BoxFuture<'_, Result<bool, Error>> {
        Box::pin(async move {
            check_size(&message)?;
            Ok(self
                .aws
                .send_to(&self.endpoint, peer.as_str(), &message)
                .await?)
        })
    }

    fn peers(&self) -> BoxFuture<'_, Result<Vec<PeerId>, Error>> {
        Box::pin(async move {
            let ids = self.aws.registry.connections().await?;
            Ok(ids.into_iter().map(PeerId::from).collect())
        })
    }
}
