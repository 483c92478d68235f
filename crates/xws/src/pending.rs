//! The result of a [`Hub`](crate::Hub) operation that has already started.

use std::{
    fmt,
    future::{Future, IntoFuture, Ready, ready},
    pin::Pin,
    task::{Context, Poll},
};

use crate::{BoxFuture, Error, MaybeSend};

/// A hub operation in flight: the work starts when the [`Hub`](crate::Hub)
/// method is called, like a [`Peer`](crate::Peer) operation, so dropping
/// it does not cancel anything. `.await` it for the result.
///
/// It is [`IntoFuture`] rather than a [`Future`] on purpose: `let _ =
/// hub.publish(..)` is a correct fire-and-forget publication, not a future
/// silently dropped.
///
/// ```
/// # async fn route(hub: xws::Hub) -> Result<(), xws::Error> {
/// let _ = hub.publish("room:lobby", "fire and forget");
/// let reached = hub.publish("room:lobby", "and this one is counted").await?;
/// assert!(reached.delivered <= 2);
/// # Ok(()) }
/// ```
pub struct Pending<T> {
    future: PendingFuture<T>,
}

impl<T> Pending<T> {
    /// An operation that completed while it was called (an in-memory
    /// publication).
    pub fn ready(result: Result<T, Error>) -> Self {
        Self {
            future: PendingFuture::Ready(ready(result)),
        }
    }

    /// An operation the adapter has already started (spawned, queued,
    /// sent); `outcome` only waits for its result. An adapter must not pass
    /// work that starts when polled: that is the bug this type prevents.
    pub fn started(outcome: impl Future<Output = Result<T, Error>> + MaybeSend + 'static) -> Self {
        Self {
            future: PendingFuture::Started(Box::pin(outcome)),
        }
    }
}

impl<T> fmt::Debug for Pending<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}

impl<T> IntoFuture for Pending<T> {
    type Output = Result<T, Error>;
    type IntoFuture = PendingFuture<T>;

    fn into_future(self) -> PendingFuture<T> {
        self.future
    }
}

/// What awaiting a [`Pending`] polls.
pub enum PendingFuture<T> {
    /// Completed when called.
    Ready(Ready<Result<T, Error>>),
    /// Running elsewhere; waits for its result.
    Started(BoxFuture<'static, Result<T, Error>>),
}

impl<T> Future for PendingFuture<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Both variants are `Unpin` (`Ready` always is, a box is), so this is.
        match self.get_mut() {
            PendingFuture::Ready(ready) => Pin::new(ready).poll(cx),
            PendingFuture::Started(future) => future.as_mut().poll(cx),
        }
    }
}
