//! Publishing from outside a connection: HTTP routes, background and
//! scheduled tasks.

use serde::Serialize;
use std::{fmt, sync::Arc};

use crate::{Message, PeerId, Pending, Topic, adapter::HubTransport};

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
/// Like a [`Peer`](crate::Peer)'s, its operations start when called and
/// return a [`Pending`] result: await it, or drop it to fire and forget.
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

    /// Publishes `message` to every subscriber of `topic`. The publication
    /// starts now; await the result to learn how many peers it reached.
    pub fn publish(
        &self,
        topic: impl AsRef<str>,
        message: impl Into<Message>,
    ) -> Pending<Delivery> {
        match Topic::new(topic) {
            Ok(topic) => {
                crate::metrics::published(topic.as_str());
                self.transport.publish(topic, message.into(), None)
            }
            Err(error) => Pending::ready(Err(error)),
        }
    }

    /// Publishes `value`, serialized once as JSON, to `topic`.
    pub fn publish_json<T: Serialize + ?Sized>(
        &self,
        topic: impl AsRef<str>,
        value: &T,
    ) -> Pending<Delivery> {
        match Message::json(value) {
            Ok(message) => self.publish(topic, message),
            Err(error) => Pending::ready(Err(error)),
        }
    }

    /// Sends `message` to every connected peer.
    pub fn broadcast(&self, message: impl Into<Message>) -> Pending<Delivery> {
        self.transport.broadcast(message.into())
    }

    /// Sends `value`, serialized once as JSON, to every connected peer.
    pub fn broadcast_json<T: Serialize + ?Sized>(&self, value: &T) -> Pending<Delivery> {
        match Message::json(value) {
            Ok(message) => self.broadcast(message),
            Err(error) => Pending::ready(Err(error)),
        }
    }

    /// Sends `message` to one peer; `Ok(false)` when it is not connected.
    pub fn send_to(&self, peer: &PeerId, message: impl Into<Message>) -> Pending<bool> {
        self.transport.send_to(peer.clone(), message.into())
    }

    /// The connected peers, where the runtime can list them.
    pub fn peers(&self) -> Pending<Vec<PeerId>> {
        self.transport.peers()
    }
}
