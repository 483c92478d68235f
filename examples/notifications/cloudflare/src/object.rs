//! The Durable Object class `UserNotifications`: one user's connections
//! and stored notifications.

use notifications::NotificationsHandler;
use worker::{DurableObject, Env, Method, Request, Response, State, durable_object};
use xws_cloudflare::Object;

use crate::{ObjectStore, routes};

/// One user's object; `wrangler.toml` binds the class as `NOTIFICATIONS`.
#[durable_object]
pub struct UserNotifications {
    object: Object<NotificationsHandler<ObjectStore>>,
}

impl DurableObject for UserNotifications {
    fn new(state: State, _env: Env) -> Self {
        let handler = NotificationsHandler::new(ObjectStore::new(state.storage()));
        Self {
            object: Object::new(state, handler, crate::config()),
        }
    }

    async fn fetch(&self, request: Request) -> worker::Result<Response> {
        if self.object.handles(&request) {
            return self.object.fetch(request).await;
        }
        let store = ObjectStore::new(self.object.storage());
        let hub = self.object.hub();
        match (request.method(), request.path().as_str()) {
            (Method::Post, routes::NOTIFY) => routes::notify(&hub, &store, request).await,
            (Method::Get, routes::LIST) => routes::list(&store, &request).await,
            (Method::Post, routes::MARK_READ) => routes::mark_read(&hub, &store, &request).await,
            (Method::Get, routes::CONTRACT) => routes::contract(&store).await,
            _ => Response::error("not found", 404),
        }
    }

    xws_cloudflare::websocket_events!(object);
}
