//! Publishing from outside a connection: HTTP routes, background and
//! scheduled tasks.

use serde::Serialize;
use std::{fmt, sync::Arc};

use crate::{Error, Message, PeerId, Topic, adapter::HubTransport};

/// How many peers a publication reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// Peers the message was handed to. With a cross-node broker this counts
    /// this node's peers only; other nodes deliver without reporting back.
    pub delivered: usize,
}

/// A handle for code outside a connection: an HTTP route, a background task,
/// a cron job. Cheap to clone; every adapter gives one out.
///
/// ```no_run
/// # async fn demo(hub: xws::Hub) -> Result<(), xws::Error> {
/// let reached = hub.publish_json("user:42", &serde_json::json!({"type": "ping"})).await?;
/// tracing_free_log(reached.delivered);
/// # Ok(()) }
/// # fn tracing_free_log(_: usize) {}
/// ```
#[derive(Clone)]
pub struct Hub {
    transport: Arc<dyn HubTransport>,
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

impl Hub {
    /// Wraps an adapter's transport.
    pub fn new(transport: Arc<dyn HubTransport>) -> Self {
        Self { transport }
    }

    /// Publishes `message` to every subscriber of `topic`.
    pub async fn publish(
        &self,
        topic: impl AsRef<str>,
        message: impl Into<Message>,
    ) -> Result<Delivery, Error> {
        let topic = Topic::new(topic)?;
        self.transport.publish(topic, message.into(), None).await
    }

    /// Publishes `value`, serialized once as JSON, to `topic`.
    pub async fn publish_json<T: Serialize + ?Sized>(
        &self,
        topic: impl AsRef<str>,
        value: &T,
    ) -> Result<Delivery, Error> {
        self.publish(topic, Message::json(value)?).await
    }

    /// Sends `message` to every connected peer.
    pub async fn broadcast(&self, message: impl Into<Message>) -> Result<Delivery, Error> {
        self.transport.broadcast(message.into()).await
    }

    /// Sends `value`, serialized once as JSON, to every connected peer.
    pub async fn broadcast_json<T: Serialize + ?Sized>(
        &self,
        value: &T,
    ) -> Result<Delivery, Error> {
        self.broadcast(Message::json(value)?).await
    }

    /// Sends `message` to one peer; `Ok(false)` when it is not connected.
    pub async fn send_to(&self, peer: &PeerId, message: impl Into<Message>) -> Result<bool, Error> {
        self.transport.send_to(peer.clone(), message.into()).await
    }

    /// The connected peers, where the runtime can list them.
    pub async fn peers(&self) -> Result<Vec<PeerId>, Error> {
        self.transport.peers().await
    }
}
