//! Notifications: delivered live to every tab of a user, stored so a user
//! who was offline gets the missed ones on the next connect, exactly once.
//!
//! [`send_notification`] stores and publishes to `user:{id}`;
//! [`NotificationsHandler`] replays what a user missed when a connection
//! opens and handles `mark-read`, which every tab hears of. Storage is a
//! [`NotificationStore`]: SQLite or PostgreSQL on Tokio, Durable Object
//! storage on Cloudflare, DynamoDB on AWS.

mod notification;
pub mod protocol;
#[cfg(feature = "scenarios")]
pub mod scenarios;
mod send;
#[cfg(feature = "tokio")]
pub mod server;
pub mod store;

use xws::caps::{Capability, Needs};
use xws::{Handler, HookResult, Message, Peer, RequestInfo, Topic, Upgrade};

pub use notification::{
    BODY_LIMIT, InvalidNotification, MAX_BODY, MAX_TITLE, NewNotification, Notification,
};
pub use per_user::{UserContext, user_topic, valid_user};
pub use send::{Sent, mark_read, send_notification};
pub use store::{MemoryStore, NotificationStore};

use protocol::{ClientMessage, ServerMessage};

// The deployment targets chosen by feature (see Cargo.toml): a target that
// cannot run the handler fails the build here, naming the alternative.
#[cfg(feature = "target-tokio")]
xws::assert_deployable!(xws::caps::Tokio, NotificationsHandler<MemoryStore>);
#[cfg(feature = "target-cloudflare")]
xws::assert_deployable!(
    xws::caps::CloudflareDurableObject,
    NotificationsHandler<MemoryStore>
);
#[cfg(feature = "target-aws")]
xws::assert_deployable!(xws::caps::AwsApiGateway, NotificationsHandler<MemoryStore>);

/// How many notifications `GET /api/notifications` returns.
pub const LIST_LIMIT: usize = 50;

/// The handler, keeping notifications in `S`.
#[derive(Clone, Debug, Default)]
pub struct NotificationsHandler<S> {
    store: S,
}

impl<S: NotificationStore> NotificationsHandler<S> {
    /// A handler over `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The store, for the HTTP routes.
    pub fn store(&self) -> &S {
        &self.store
    }
}

impl<S: NotificationStore> Handler for NotificationsHandler<S> {
    type Context = UserContext;

    /// Notifications are sent from outside any connection to the user's
    /// topic; missed ones are replayed from `open`.
    const NEEDS: Needs = Needs::of(&[
        Capability::WebSocket,
        Capability::PubSubInstance,
        Capability::PublishFromOutside,
        Capability::SendFromOpen,
        Capability::ContextSurvives,
    ]);

    async fn upgrade(&self, request: &RequestInfo) -> Upgrade<UserContext> {
        per_user::upgrade(request)
    }

    /// Subscribes first, then replays what the user missed: a notification
    /// sent in between arrives live or in the replay. Each is marked
    /// delivered once it is sent; when the peer's queue takes no more (it
    /// is closed as a slow reader), the rest stay for the next connect.
    async fn open(&self, peer: &Peer<UserContext>) -> HookResult {
        let user = per_user::user_of(peer);
        peer.subscribe(user_topic(&user))?;
        let mut sent = Vec::new();
        for notification in self.store.undelivered(&user).await? {
            let replayed = peer.send_json(&ServerMessage::Notification {
                notification: &notification,
                missed: true,
            });
            if let Err(error) = replayed {
                tracing::info!(%user, %error, "replay stopped; the rest wait for the next connect");
                break;
            }
            sent.push(notification.id);
        }
        self.store.mark_delivered(&user, &sent).await?;
        Ok(())
    }

    async fn message(&self, peer: &Peer<UserContext>, message: Message) -> HookResult {
        if per_user::close_if_expired(peer) {
            return Ok(()); // closed with 3000 "token expired"
        }
        let command = match message
            .text()
            .ok()
            .map(serde_json::from_str::<ClientMessage>)
        {
            Some(Ok(command)) => command,
            Some(Err(error)) => {
                let error = format!("expected {{\"type\":\"mark-read\",\"id\":…}}: {error}");
                return Ok(peer.send_json(&ServerMessage::Error { error })?);
            }
            None => {
                let error = "binary frames are not understood".to_owned();
                return Ok(peer.send_json(&ServerMessage::Error { error })?);
            }
        };
        match command {
            ClientMessage::MarkRead { id } => {
                let user = per_user::user_of(peer);
                if !self.store.mark_read(&user, &id).await? {
                    let error = format!("no notification {id:?}");
                    return Ok(peer.send_json(&ServerMessage::Error { error })?);
                }
                let read = ServerMessage::Read { id: &id };
                peer.publish_json(user_topic(&user), &read)?;
                peer.send_json(&read)?;
            }
        }
        Ok(())
    }

    /// A peer follows its own user's notifications, nobody else's.
    fn authorize_subscribe(&self, peer: &Peer<UserContext>, topic: &Topic) -> bool {
        per_user::owns_topic(peer, topic)
    }
}
