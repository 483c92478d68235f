//! Publishing from anywhere: the [`HubTransport`] over the publish path of
//! [`crate::publish`].

use std::{future::Future, sync::Arc};
use xws::{Delivery, Error, Message, PeerId, Pending, Topic, adapter::HubTransport};

use crate::{Aws, to_wire};

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
            let message = to_wire(message)?;
            let exclude = exclude.as_ref().map(PeerId::as_str);
            hub.aws
                .publish_kept(&hub.endpoint, &topic, &message, exclude)
                .await
        })
    }

    fn broadcast(&self, message: Message) -> Pending<Delivery> {
        let hub = self.clone();
        Self::start(async move {
            let message = to_wire(message)?;
            hub.aws.broadcast(&hub.endpoint, &message).await
        })
    }

    fn send_to(&self, peer: PeerId, message: Message) -> Pending<bool> {
        let hub = self.clone();
        Self::start(async move {
            let message = to_wire(message)?;
            Ok(hub
                .aws
                .send_to(&hub.endpoint, peer.as_str(), &message)
                .await?)
        })
    }

    fn peers(&self) -> Pending<Vec<PeerId>> {
        let hub = self.clone();
        Self::start(async move {
            let ids = hub.aws.registry.connections().await?;
            Ok(ids.into_iter().map(PeerId::from).collect())
        })
    }
}
