//! The Durable Object class `ChatRoom`: a thin shell around
//! [`xws_cloudflare::Object`].

use worker::{DurableObject, Env, Request, Response, State, durable_object};
use xws_cloudflare::Object;

use crate::debug::DebugChat;

/// Hosts the chat's peers; `wrangler.toml` binds it as `CHAT`.
#[durable_object]
pub struct ChatRoom {
    object: Object<DebugChat>,
}

impl DurableObject for ChatRoom {
    fn new(state: State, env: Env) -> Self {
        // The log line lets the hibernation test see the constructor run again.
        worker::console_log!("xws chat: ChatRoom constructed");
        Self {
            object: Object::new(state, crate::handler(&env), crate::config(&env)),
        }
    }

    async fn fetch(&self, request: Request) -> worker::Result<Response> {
        if !self.object.handles(&request) && request.path() == crate::CONTRACT_PATH {
            // Only forwarded when debugging (see `lib.rs`).
            return crate::debug::contract(&self.object.storage()).await;
        }
        self.object.fetch(request).await
    }

    xws_cloudflare::websocket_events!(object);
}
