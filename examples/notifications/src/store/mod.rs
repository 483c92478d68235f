//! Where notifications are kept: each target has its own store.

pub mod contract;
mod memory;
#[cfg(feature = "tokio")]
mod sql;

use std::future::Future;
use xws::{BoxError, MaybeSend, MaybeSync};

use crate::Notification;

pub use memory::MemoryStore;
#[cfg(feature = "tokio")]
pub use sql::SqlStore;

/// Stored notifications. SQLite or PostgreSQL on Tokio ([`SqlStore`]),
/// Durable Object storage on Cloudflare, DynamoDB on AWS; every one passes
/// [`contract::check`].
///
/// A notification is *delivered* once a connection of its user got it,
/// live or on connect, and *read* once the user says so.
pub trait NotificationStore: MaybeSend + MaybeSync + 'static {
    /// Stores a new notification, not delivered yet.
    fn insert(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<(), BoxError>> + MaybeSend;

    /// Records that `user`'s notifications `ids` reached a connection
    /// (ids of other users' notifications are ignored).
    fn mark_delivered(
        &self,
        user: &str,
        ids: &[String],
    ) -> impl Future<Output = Result<(), BoxError>> + MaybeSend;

    /// `user`'s undelivered notifications, oldest first. They stay
    /// undelivered until [`mark_delivered`](Self::mark_delivered): the
    /// caller marks each once it reached a connection, so one it could not
    /// send is replayed on the next connect.
    fn undelivered(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<Vec<Notification>, BoxError>> + MaybeSend;

    /// Marks `user`'s notification `id` as read; `false` if it has none
    /// with that id.
    fn mark_read(
        &self,
        user: &str,
        id: &str,
    ) -> impl Future<Output = Result<bool, BoxError>> + MaybeSend;

    /// `user`'s latest `limit` notifications, newest first.
    fn list(
        &self,
        user: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Notification>, BoxError>> + MaybeSend;
}

/// Oldest first, ties broken by id, as `undelivered` returns them.
pub fn oldest_first(notifications: &mut [Notification]) {
    notifications.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
}

/// Newest first, as `list` returns them.
pub fn newest_first(notifications: &mut [Notification]) {
    notifications.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
}
