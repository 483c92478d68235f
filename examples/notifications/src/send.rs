//! Sending and marking read from outside a connection: an HTTP route, a
//! job, another service. Every target's routes call these.

use serde::Serialize;
use xws::{BoxError, Hub};

use crate::protocol::ServerMessage;
use crate::{NewNotification, Notification, NotificationStore, user_topic};

/// A sent notification and how many connections got it live.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// As stored.
    pub notification: Notification,
    /// Connections of the user that got it now; 0 means it waits for the
    /// next connect.
    pub delivered: usize,
}

/// `sendNotification(user, n)`: stores `new` for `user` (with `id`, created
/// at `now_ms`), delivers it to every connection of the user, and records
/// the delivery if any connection got it. Otherwise the user gets it on the
/// next connect, once.
///
/// Stored before it is published: a user connecting in between gets it on
/// connect and possibly live as well, never not at all (the page ignores an
/// id it already shows).
pub async fn send_notification(
    hub: &Hub,
    store: &impl NotificationStore,
    user: &str,
    new: NewNotification,
    id: String,
    now_ms: u64,
) -> Result<Sent, BoxError> {
    let notification = new.into_notification(user, id, now_ms);
    store.insert(&notification).await?;
    let message = ServerMessage::Notification {
        notification: &notification,
        missed: false,
    };
    let delivered = hub
        .publish_json(user_topic(user), &message)
        .await?
        .delivered;
    if delivered > 0 {
        store
            .mark_delivered(user, std::slice::from_ref(&notification.id))
            .await?;
    }
    tracing::debug!(%user, id = %notification.id, delivered, "notification sent");
    Ok(Sent {
        notification,
        delivered,
    })
}

/// Marks `user`'s notification `id` read and tells every connection of the
/// user; `false` if the user has no such notification.
pub async fn mark_read(
    hub: &Hub,
    store: &impl NotificationStore,
    user: &str,
    id: &str,
) -> Result<bool, BoxError> {
    if !store.mark_read(user, id).await? {
        return Ok(false);
    }
    hub.publish_json(user_topic(user), &ServerMessage::Read { id })
        .await?;
    Ok(true)
}
