//! Live task progress: one portable handler, a background job that
//! publishes to the user who started it.
//!
//! `POST /api/start-import?user=U` starts an [`Import`] for `U`; each batch
//! of records ends with an [`ImportEvent`] published to `user:U`, so every
//! connection of that user (in every tab) follows it, and nobody else. The
//! job runs where each target runs background work: a tokio task here, the
//! user's Durable Object and its alarms on Cloudflare, an asynchronously
//! invoked function on AWS. All of them drive the same [`Import::step`].
//!
//! On the function targets without WebSockets (Vercel, a Lambda function
//! URL) the same user's topic is an SSE stream, [`ImportStream`]: the
//! latest event first, then the events the job publishes from another
//! invocation through Redis, resuming after `Last-Event-ID` from the
//! topic's history ([`progress_history`]).

mod job;
#[cfg(feature = "redis")]
mod redis_progress;
#[cfg(feature = "scenarios")]
pub mod scenarios;
#[cfg(feature = "tokio")]
pub mod server;
mod start;
mod stream;
#[cfg(feature = "scenarios")]
pub mod stream_scenarios;

use xws::caps::{Capability, Needs};
use xws::{Handler, HookResult, Hub, Peer, RequestInfo, Topic, Upgrade};

pub use job::{Import, ImportEvent, STEP_DELAY};
pub use per_user::{UserContext, login_route, user_from_token, user_topic, valid_user};
#[cfg(feature = "redis")]
pub use redis_progress::RedisProgress;
pub use start::{BODY_LIMIT, DEFAULT_TOTAL, MAX_TOTAL, StartError, StartImport};
pub use stream::{
    ImportStream, LatestProgress, MemoryProgress, StreamTarget, progress_history, publish_progress,
};

// The deployment targets chosen by feature (see Cargo.toml): a target that
// cannot run the handler fails the build here, naming the alternative.
#[cfg(feature = "target-tokio")]
xws::assert_deployable!(xws::caps::Tokio, ImportHandler);
#[cfg(feature = "target-cloudflare")]
xws::assert_deployable!(xws::caps::CloudflareDurableObject, ImportHandler);
#[cfg(feature = "target-aws")]
xws::assert_deployable!(xws::caps::AwsApiGateway, ImportHandler);

/// The handler: a connection names its user and follows that user's topic.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportHandler;

impl Handler for ImportHandler {
    type Context = UserContext;

    /// Progress is published by a job outside any connection, to a topic.
    const NEEDS: Needs = Needs::of(&[
        Capability::WebSocket,
        Capability::PubSubInstance,
        Capability::PublishFromOutside,
        Capability::ContextSurvives,
    ]);

    async fn upgrade(&self, request: &RequestInfo) -> Upgrade<UserContext> {
        per_user::upgrade(request)
    }

    async fn open(&self, peer: &Peer<UserContext>) -> HookResult {
        peer.subscribe(user_topic(&per_user::user_of(peer)))?;
        Ok(())
    }

    /// Clients only listen; a message after the token expired closes the
    /// peer with 3000 "token expired".
    async fn message(&self, peer: &Peer<UserContext>, _message: xws::Message) -> HookResult {
        per_user::close_if_expired(peer);
        Ok(())
    }

    /// A peer follows its own user's imports, nobody else's.
    fn authorize_subscribe(&self, peer: &Peer<UserContext>, topic: &Topic) -> bool {
        per_user::owns_topic(peer, topic)
    }
}

/// Publishes `event` of `import` to its user's connections; returns how
/// many got it.
pub async fn publish(hub: &Hub, import: &Import, event: &ImportEvent) -> Result<usize, xws::Error> {
    Ok(hub
        .publish_json(user_topic(&import.user), event)
        .await?
        .delivered)
}
