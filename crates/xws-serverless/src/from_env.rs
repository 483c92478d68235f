//! The topics of a function process, configured from its environment.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use xws::adapter::NodeId;
use xws::stream::{MemoryStore, StreamConfig};
use xws_redis::{RedisBroker, RedisBrokerConfig, RedisStreams};

use crate::{BadVariable, InstanceTopics, TokioRuntime};

/// Overrides [`InstanceTopics::DEFAULT_APPEND_CAPACITY`].
const APPEND_CAPACITY_ENV: &str = "XWS_HISTORY_APPEND_CAPACITY";

/// How long a new instance waits for its Redis subscription before serving.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the topics could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum FromEnvError {
    /// Redis refused the configuration or did not answer.
    #[error("XWS_REDIS_URL: {0}")]
    Redis(#[from] xws_redis::Error),
    /// Redis answered but the subscription was not up in time.
    #[error("XWS_REDIS_URL: not subscribed within {READY_TIMEOUT:?}")]
    NotReady,
    /// Redis answered but the history's feed was not up in time.
    #[error("XWS_REDIS_URL: the stream feed was not subscribed within {READY_TIMEOUT:?}")]
    FeedNotReady,
    /// A variable that should hold a number does not.
    #[error(transparent)]
    Variable(#[from] BadVariable),
}

/// `XWS_HISTORY_APPEND_CAPACITY`, or the default.
fn append_capacity() -> Result<usize, BadVariable> {
    match std::env::var(APPEND_CAPACITY_ENV) {
        Ok(value) => value.trim().parse().map_err(|_| BadVariable {
            name: APPEND_CAPACITY_ENV,
            value,
        }),
        Err(_) => Ok(InstanceTopics::DEFAULT_APPEND_CAPACITY),
    }
}

/// This process's topics: joined to every instance through Redis when
/// `XWS_REDIS_URL` is set (channel `XWS_REDIS_CHANNEL`, default `xws`, and
/// the sealing secret `XWS_REDIS_SECRET`: every function of one app must use
/// the same), else this process's only
/// (one instance: fine locally, not on a platform that runs several).
///
/// Call it once per process (at start-up, outside the request path): it
/// connects, fails loudly when Redis does not answer, and waits until the
/// subscription is up, so the first stream misses nothing.
pub async fn instance_topics_from_env() -> Result<Arc<InstanceTopics>, FromEnvError> {
    instance_topics_from_env_with(StreamConfig::new()).await
}

/// [`instance_topics_from_env`], where the topics that `streams` says keep
/// history are kept in the same Redis (`xws_redis::RedisStreams`, keys
/// under the channel's name), shared by every instance: their publications
/// carry positions, and streams resume after `Last-Event-ID`. Every
/// function of the app (the streams and the publishers) must use the same
/// `streams`. Without `XWS_REDIS_URL`, the history is this process's only.
/// `XWS_HISTORY_APPEND_CAPACITY` bounds the publications waiting for the
/// store (see [`InstanceTopics::with_history_append_capacity`]).
pub async fn instance_topics_from_env_with(
    streams: StreamConfig,
) -> Result<Arc<InstanceTopics>, FromEnvError> {
    let append_capacity = append_capacity()?;
    let node = NodeId(RandomState::new().hash_one(std::process::id()));
    let Some(url) = std::env::var("XWS_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        tracing::warn!(
            "xws-serverless: XWS_REDIS_URL is not set; publications reach this instance's streams only"
        );
        if streams.is_empty() {
            return Ok(InstanceTopics::local(node));
        }
        let store = Arc::new(MemoryStore::new(format!(
            "{:012x}",
            node.0 & 0xffff_ffff_ffff
        )));
        return Ok(InstanceTopics::with_history_append_capacity(
            node,
            None,
            streams,
            store,
            TokioRuntime,
            append_capacity,
        ));
    };
    let mut config = RedisBrokerConfig::new(url);
    if let Ok(channel) = std::env::var("XWS_REDIS_CHANNEL") {
        config = config.with_channel(channel);
    }
    let broker = Arc::new(RedisBroker::connect(config.clone()).await?);
    let topics = if streams.is_empty() {
        InstanceTopics::with_broker(node, broker.clone())
    } else {
        let store = Arc::new(RedisStreams::new(config)?);
        let topics = InstanceTopics::with_history_append_capacity(
            node,
            Some(broker.clone()),
            streams,
            store.clone(),
            TokioRuntime,
            append_capacity,
        );
        tokio::time::timeout(READY_TIMEOUT, store.feed_ready())
            .await
            .map_err(|_| FromEnvError::FeedNotReady)?;
        topics
    };
    tokio::time::timeout(READY_TIMEOUT, broker.ready())
        .await
        .map_err(|_| FromEnvError::NotReady)?;
    Ok(topics)
}
