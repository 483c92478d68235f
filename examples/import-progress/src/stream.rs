//! Import progress as an SSE-only handler, for the function targets without
//! WebSockets (Vercel, a Lambda function URL): one user's stream, its
//! imports run by another invocation and published through the broker.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use xws::caps::{Capability, Needs};
use xws::stream::{Retention, StreamConfig, TopicPolicy};
use xws::{
    BoxError, Handler, HookResult, Hub, MaybeSend, MaybeSync, Peer, RequestInfo, Topic, Upgrade,
};

use crate::{Import, ImportEvent, UserContext, user_topic};

/// The latest event of each user's imports, written by the job before it
/// publishes and read when a stream opens: kept where every invocation
/// reaches it (Redis on the function targets, [`RedisProgress`](crate::RedisProgress)).
pub trait LatestProgress: MaybeSend + MaybeSync + 'static {
    /// `user`'s latest import event, if an import ran lately.
    fn get(
        &self,
        user: &str,
    ) -> impl Future<Output = Result<Option<ImportEvent>, BoxError>> + MaybeSend;
    /// Replaces `user`'s latest import event.
    fn set(
        &self,
        user: &str,
        event: &ImportEvent,
    ) -> impl Future<Output = Result<(), BoxError>> + MaybeSend;
}

/// The latest events in memory: one process's (a Tokio server, tests).
#[derive(Clone, Debug, Default)]
pub struct MemoryProgress(Arc<Mutex<HashMap<String, ImportEvent>>>);

impl LatestProgress for MemoryProgress {
    async fn get(&self, user: &str) -> Result<Option<ImportEvent>, BoxError> {
        let latest = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(latest.get(user).cloned())
    }

    async fn set(&self, user: &str, event: &ImportEvent) -> Result<(), BoxError> {
        let mut latest = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        latest.insert(user.to_owned(), event.clone());
        Ok(())
    }
}

/// Which topics keep history: every user's, its last 100 events for 10
/// minutes (an import sends about 21), so a stream that ends mid-import
/// resumes from `Last-Event-ID`. The stream functions and the job use the
/// same.
pub fn progress_history() -> StreamConfig {
    let recent = Retention::new(100, Duration::from_secs(10 * 60));
    StreamConfig::new().rule("user:*", TopicPolicy::history(recent))
}

/// [`ImportHandler`](crate::ImportHandler)'s stream, needing SSE instead of
/// WebSocket: the token's user's latest import event first, then every
/// event of their imports, from whichever invocation runs them. A stream
/// that resumes (`Last-Event-ID`) gets the events it missed instead.
#[derive(Clone, Debug, Default)]
pub struct ImportStream<L> {
    latest: L,
}

impl<L: LatestProgress> ImportStream<L> {
    /// Streams starting from what `latest` holds.
    pub fn new(latest: L) -> Self {
        Self { latest }
    }
}

impl<L: LatestProgress> Handler for ImportStream<L> {
    type Context = UserContext;

    /// The job runs in another invocation, so the topic spans instances.
    const NEEDS: Needs = Needs::of(&[
        Capability::Sse,
        Capability::PubSubAcrossInstances,
        Capability::PublishFromOutside,
        Capability::SendFromOpen,
    ]);

    /// 401 without a valid `?token=`, 403 for a `?user=` naming someone else.
    async fn upgrade(&self, request: &RequestInfo) -> Upgrade<UserContext> {
        per_user::upgrade(request)
    }

    /// Subscribes first, then sends the latest event: an event published
    /// meanwhile may come twice (each is the whole progress, so the page
    /// keeps the furthest), none is missed. A resuming stream gets no
    /// state: the topic's history replays what it missed.
    async fn open(&self, peer: &Peer<UserContext>) -> HookResult {
        let user = per_user::user_of(peer);
        peer.subscribe(user_topic(&user))?;
        if peer.request().header("last-event-id").is_some() {
            return Ok(());
        }
        if let Some(event) = self.latest.get(&user).await? {
            peer.send_json(&event)?;
        }
        Ok(())
    }

    /// A stream follows its own user's imports (`?topic=` naming another's: 403).
    fn authorize_subscribe(&self, peer: &Peer<UserContext>, topic: &Topic) -> bool {
        per_user::owns_topic(peer, topic)
    }

    /// `open` reads `Last-Event-ID`; a peer keeps no other header.
    fn kept_request(&self, request: &RequestInfo) -> RequestInfo {
        request.kept(&["last-event-id"])
    }
}

/// Publishes `event` of `import` to its user's streams on every instance
/// (`hub` joined to the broker, keeping [`progress_history`]), after keeping
/// it as the latest, so a stream opened after it still starts from it.
pub async fn publish_progress<L: LatestProgress>(
    hub: &Hub,
    latest: &L,
    import: &Import,
    event: &ImportEvent,
) -> Result<(), BoxError> {
    latest.set(&import.user, event).await?;
    hub.publish_json(user_topic(&import.user), event).await?;
    Ok(())
}

/// The platform the stream handler is built for: Vercel with the feature
/// `target-vercel`, a Lambda function URL with `target-function-url` (the
/// packages in `vercel/` and `aws/` turn them on), a Tokio server
/// otherwise. Either way the handler is checked against it at compile
/// time; building it for a target without SSE fails.
#[cfg(feature = "target-vercel")]
pub type StreamTarget = xws::caps::Vercel;
/// The platform the stream handler is built for (see `target-vercel`).
#[cfg(all(feature = "target-function-url", not(feature = "target-vercel")))]
pub type StreamTarget = xws::caps::AwsLambdaUrl;
/// The platform the stream handler is built for (see `target-vercel`).
#[cfg(not(any(feature = "target-vercel", feature = "target-function-url")))]
pub type StreamTarget = xws::caps::Tokio;

xws::assert_deployable!(StreamTarget, ImportStream<MemoryProgress>);
