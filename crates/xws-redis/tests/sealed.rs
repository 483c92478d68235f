//! Only nodes holding the shared secret deliver through the channel: what
//! anyone else `PUBLISH`es straight to Redis (an unsealed envelope, a
//! forged seal, an oversized message) is refused and counted, a rotation
//! accepts both secrets, and a flood cannot grow a node's receive queue.

mod support;

use std::{sync::Arc, time::Duration};
use support::*;
use xws::{
    Message,
    adapter::{Broker, Envelope, NodeId, Target},
};
use xws_redis::{
    BrokerStats, EnvelopeSeal, Error, PubSubMode, RedisBroker, RedisBrokerConfig, SECRET_ENV,
};

const OTHER_SECRET: &str = "a secret the nodes of this channel do not hold";

/// An envelope that would reach every peer of `user:alice`.
fn to_alice(text: &str) -> Envelope {
    Envelope {
        origin: NodeId(666),
        target: Target::Topic {
            topic: xws::Topic::new("user:alice").unwrap(),
            exclude: None,
        },
        message: Message::from(text.to_owned()),
    }
}

async fn publish_raw(url: &str, channel: &str, payload: &[u8]) {
    let mut admin = redis_admin(url).await;
    let _: i64 = redis::cmd("PUBLISH")
        .arg(channel)
        .arg(payload)
        .query_async(&mut admin)
        .await
        .unwrap();
}

async fn stats_until(broker: &RedisBroker, done: impl Fn(&BrokerStats) -> bool) -> BrokerStats {
    tokio::time::timeout(WAIT, async {
        loop {
            let stats = broker.stats();
            if done(&stats) {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the counters did not get there: {:?}", broker.stats()))
}

#[tokio::test]
async fn unsealed_forged_and_oversized_messages_published_to_redis_are_refused() {
    let url = require_redis().await;
    let channel = unique_channel("forged");
    let config = config(&url, &channel, PubSubMode::Classic).with_max_envelope_size(1024);
    let mut node = start_node(config, 1).await;

    // What an attacker with PUBLISH rights but no secret can send.
    publish_raw(&url, &channel, &to_alice("unsealed").encode()).await;
    let forger = EnvelopeSeal::new(&channel, OTHER_SECRET.as_bytes(), &[]);
    publish_raw(&url, &channel, &forger.seal(&to_alice("forged").encode())).await;
    // Genuinely sealed, but over the size limit.
    let ours = EnvelopeSeal::new(&channel, TEST_SECRET.as_bytes(), &[]);
    let large = to_alice(&"x".repeat(2048)).encode();
    publish_raw(&url, &channel, &ours.seal(&large)).await;
    // And one a node of ours could have sent.
    publish_raw(&url, &channel, &ours.seal(&to_alice("genuine").encode())).await;

    let delivered = receive(&mut node.inbox, 1).await;
    assert_eq!(delivered, vec![to_alice("genuine")]);
    assert_quiet(&mut node.inbox).await;
    let stats = stats_until(&node.broker, |s| s.refused == 2 && s.oversized == 1).await;
    assert_eq!((stats.received, stats.malformed), (1, 0));
}

#[tokio::test]
async fn nodes_with_another_secret_are_not_heard_and_a_rotation_hears_both() {
    let url = require_redis().await;
    let channel = unique_channel("rotation");
    let with = |secret: &str, accepted: Option<&str>| {
        let config = config(&url, &channel, PubSubMode::Classic).with_secret(secret);
        match accepted {
            Some(accepted) => config.with_accepted_secret(accepted),
            None => config,
        }
    };
    let old = start_node(with(TEST_SECRET, None), 1).await;
    let mut rotating = start_node(with(OTHER_SECRET, Some(TEST_SECRET)), 2).await;
    let mut stranger = start_node(with("yet another secret, unknown here", None), 3).await;

    old.broker.forward(&publication(old.id, "room:a", "p", 1));
    assert_eq!(receive(&mut rotating.inbox, 1).await.len(), 1);
    rotating
        .broker
        .forward(&publication(rotating.id, "room:a", "q", 1));
    stats_until(&old.broker, |s| s.refused == 1).await;
    stats_until(&stranger.broker, |s| s.refused == 2).await;
    assert_quiet(&mut stranger.inbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_cannot_grow_the_receive_queue() {
    let url = require_redis().await;
    let channel = unique_channel("flood");
    let sender = start_node(config(&url, &channel, PubSubMode::Classic), 1).await;
    // A node whose adapter takes 5 ms per envelope, with room for 8.
    let slow = Arc::new(
        RedisBroker::new(config(&url, &channel, PubSubMode::Classic).with_receive_capacity(8))
            .unwrap(),
    );
    slow.start(
        NodeId(2),
        Arc::new(|_| std::thread::sleep(Duration::from_millis(5))),
    );
    tokio::time::timeout(WAIT, slow.ready()).await.unwrap();

    const FLOOD: u64 = 500;
    for seq in 0..FLOOD as u32 {
        sender
            .broker
            .forward(&publication(sender.id, "room:a", "p", seq));
    }
    let stats = stats_until(&slow, |s| s.received + s.overflowed == FLOOD).await;
    assert!(
        stats.overflowed > FLOOD / 2,
        "the receive queue held what the adapter could not take: {stats:?}"
    );
}

#[tokio::test]
async fn a_broker_without_a_secret_or_with_a_short_one_does_not_start() {
    let short = RedisBrokerConfig::new("redis://127.0.0.1:1").with_secret("short");
    let error = RedisBroker::new(short).err().unwrap();
    assert!(matches!(error, Error::InvalidConfig(_)), "{error}");
    // Only when the environment does not provide one.
    if std::env::var_os(SECRET_ENV).is_none() {
        let error = RedisBroker::new(RedisBrokerConfig::new("redis://127.0.0.1:1"))
            .err()
            .unwrap();
        assert!(error.to_string().contains("XWS_REDIS_SECRET"), "{error}");
    }
}
