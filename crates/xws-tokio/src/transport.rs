//! What a [`xws::Peer`] does on Tokio.

use std::sync::Arc;
use xws::{CloseFrame, Error, Message, Topic, adapter::PeerTransport};

use crate::{
    link::{Frame, PeerLink},
    registry::Registry,
};

/// One peer's transport: its queue, and the registry for topics.
pub(crate) struct TokioTransport {
    pub(crate) link: Arc<PeerLink>,
    pub(crate) registry: Arc<Registry>,
}

impl PeerTransport for TokioTransport {
    fn send(&self, message: Message) -> Result<(), Error> {
        let bytes = message.len();
        self.link.push(Frame::Message(message))?;
        xws::metrics::messages_out(1, bytes);
        Ok(())
    }

    fn subscribe(&self, topic: &Topic) -> Result<(), Error> {
        self.registry.subscribe(topic, &self.link)
    }

    fn unsubscribe(&self, topic: &Topic) -> Result<(), Error> {
        self.registry.unsubscribe(topic, &self.link);
        Ok(())
    }

    fn publish(&self, topic: &Topic, message: Message) -> Result<(), Error> {
        self.registry.publish(topic, message, Some(&self.link.id));
        Ok(())
    }

    fn close(&self, frame: CloseFrame) {
        self.link.request_close(frame);
    }
}
