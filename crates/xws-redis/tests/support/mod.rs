//! Real-Redis helpers shared by the integration tests.
#![allow(dead_code, unused_imports)] // each test file uses a different subset

use std::{sync::Arc, time::Duration};
use tokio::sync::mpsc;
use xws::{
    Message, Topic,
    adapter::{Broker, Envelope, NodeId, Target},
};
use xws_redis::{PubSubMode, RedisBroker, RedisBrokerConfig};

pub use xws_redis::testing::{TEST_SECRET, kill_connection, require_redis, unique_channel};

/// Every wait in these tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(10);

/// A plain connection for poking Redis from the test.
pub async fn redis_admin(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// One simulated node: a started broker and what it delivered.
pub struct Node {
    pub broker: Arc<RedisBroker>,
    pub id: NodeId,
    pub inbox: mpsc::UnboundedReceiver<Envelope>,
}

pub fn config(url: &str, channel: &str, mode: PubSubMode) -> RedisBrokerConfig {
    RedisBrokerConfig::new(url)
        .with_secret(TEST_SECRET)
        .with_channel(channel)
        .with_mode(mode)
        .with_backoff(Duration::from_millis(20), Duration::from_millis(500))
        .with_health_check_interval(Duration::from_secs(1))
        .with_queue_capacity(8192)
}

/// Starts a node and waits until it publishes and listens.
pub async fn start_node(config: RedisBrokerConfig, id: u64) -> Node {
    let broker = Arc::new(RedisBroker::new(config).unwrap());
    let (inbox_in, inbox) = mpsc::unbounded_channel();
    broker.start(
        NodeId(id),
        Arc::new(move |envelope| {
            let _ = inbox_in.send(envelope);
        }),
    );
    tokio::time::timeout(WAIT, broker.ready())
        .await
        .expect("the broker did not connect to Redis");
    Node {
        broker,
        id: NodeId(id),
        inbox,
    }
}

pub async fn start_nodes(url: &str, channel: &str, mode: PubSubMode, count: u64) -> Vec<Node> {
    let mut nodes = Vec::new();
    for id in 1..=count {
        nodes.push(start_node(config(url, channel, mode), id).await);
    }
    nodes
}

/// A publication by `sender` on `topic`, numbered `seq`, sender excluded.
pub fn publication(origin: NodeId, topic: &str, sender: &str, seq: u32) -> Envelope {
    Envelope {
        origin,
        target: Target::Topic {
            topic: Topic::new(topic).unwrap(),
            exclude: Some(sender.into()),
        },
        message: Message::from(format!("{sender}#{seq}")),
    }
}

/// `(sender, seq)` of a [`publication`].
pub fn sender_and_seq(envelope: &Envelope) -> (String, u32) {
    let text = envelope.message.text().expect("a text message");
    let (sender, seq) = text.rsplit_once('#').expect("sender#seq");
    (sender.to_owned(), seq.parse().unwrap())
}

/// Receives `count` envelopes, failing if they do not come within [`WAIT`].
pub async fn receive(inbox: &mut mpsc::UnboundedReceiver<Envelope>, count: usize) -> Vec<Envelope> {
    let mut got = Vec::with_capacity(count);
    let deadline = tokio::time::Instant::now() + WAIT;
    while got.len() < count {
        match tokio::time::timeout_at(deadline, inbox.recv()).await {
            Ok(Some(envelope)) => got.push(envelope),
            Ok(None) => panic!("the inbox closed after {} of {count}", got.len()),
            Err(_) => panic!(
                "only {} of {count} envelopes arrived within {WAIT:?}",
                got.len()
            ),
        }
    }
    got
}

/// After the expected envelopes, nothing else must come: a duplicate would
/// arrive right behind its original, so a short quiet period shows there is none.
pub async fn assert_quiet(inbox: &mut mpsc::UnboundedReceiver<Envelope>) {
    if let Ok(Some(extra)) = tokio::time::timeout(Duration::from_millis(300), inbox.recv()).await {
        panic!("an unexpected extra envelope arrived: {extra:?}");
    }
}
