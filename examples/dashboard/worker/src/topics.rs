//! The topic brokers: a Durable Object per topic.
//!
//! In a private module because `#[durable_object]` generates undocumented
//! public glue that `missing_docs` would flag at the crate root.

use worker::{DurableObject, Env, Request, Response, State, durable_object};
use xws_cloudflare::TopicBroker;

/// The broker of one topic.
#[durable_object]
pub struct Topics {
    broker: TopicBroker,
}

impl DurableObject for Topics {
    fn new(state: State, _env: Env) -> Self {
        Self {
            broker: TopicBroker::new(state),
        }
    }

    async fn fetch(&self, request: Request) -> worker::Result<Response> {
        self.broker.fetch(request).await
    }

    xws_cloudflare::websocket_events!(broker);
}
