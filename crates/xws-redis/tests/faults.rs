//! Losing Redis: connections killed mid-run, Redis unreachable.

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, Ordering::SeqCst},
    },
    time::Duration,
};
use support::*;
use xws::adapter::{Broker, NodeId};
use xws_redis::{Error, PubSubMode, RedisBroker, RedisBrokerConfig, check_reachable};

/// Nothing listens on port 1 on this machine: connections are refused at once.
const DEAD_REDIS: &str = "redis://127.0.0.1:1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_connections_reconnect_and_resubscribe_without_duplicates() {
    let url = require_redis().await;
    let mut nodes = start_nodes(&url, &unique_channel("kill"), PubSubMode::Classic, 2).await;
    let (sender, receiver) = (nodes[0].broker.clone(), nodes[1].broker.clone());
    let sender_id = nodes[0].id;

    // A steady stream of publications from node 1, through the whole fault.
    let next_seq = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let stream = tokio::spawn({
        let (sender, next_seq, stop) = (sender.clone(), next_seq.clone(), stop.clone());
        async move {
            while !stop.load(SeqCst) {
                let seq = next_seq.fetch_add(1, SeqCst);
                sender.forward(&publication(sender_id, "room:a", "n1-p0", seq));
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (publisher_name, _) = sender.connection_names().unwrap();
    let (_, subscriber_name) = receiver.connection_names().unwrap();
    kill_connection(&url, &subscriber_name).await;
    kill_connection(&url, &publisher_name).await;

    let recovered = |broker: &RedisBroker| {
        let mut link = broker.link();
        async move {
            tokio::time::timeout(
                WAIT,
                link.wait_for(|s| {
                    s.is_ready() && s.publisher_sessions + s.subscriber_sessions >= 3
                }),
            )
            .await
            .expect("the broker did not recover from CLIENT KILL")
            .unwrap();
        }
    };
    recovered(&sender).await;
    recovered(&receiver).await;
    // Both links are up again: everything published from now on must arrive.
    let first_after_recovery = next_seq.load(SeqCst) + 1;
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, SeqCst);
    stream.await.unwrap();
    let total = next_seq.load(SeqCst);

    let mut seqs = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while seqs.last() != Some(&(total - 1)) {
        let envelope = tokio::time::timeout_at(deadline, nodes[1].inbox.recv())
            .await
            .expect("the last publication never arrived")
            .unwrap();
        seqs.push(sender_and_seq(&envelope).1);
    }
    assert_quiet(&mut nodes[1].inbox).await;

    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "duplicates or reordering across the fault: {seqs:?}"
    );
    let after: Vec<u32> = seqs
        .iter()
        .copied()
        .filter(|s| *s >= first_after_recovery)
        .collect();
    let expected: Vec<u32> = (first_after_recovery..total).collect();
    assert_eq!(after, expected, "publications after recovery were lost");
    let (sent, got) = (sender.stats(), receiver.stats());
    assert_eq!(got.received, seqs.len() as u64);
    assert_eq!(sent.forwarded, u64::from(total));
    assert_eq!(
        sent.published + sent.dropped,
        u64::from(total),
        "each publication is counted once"
    );
    assert_eq!(
        got.link.subscriber_sessions, 2,
        "the receiver resubscribed once"
    );
    assert_eq!(
        sent.link.publisher_sessions, 2,
        "the sender reconnected once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_never_blocks_and_counts_drops_while_redis_is_away() {
    let broker = RedisBroker::new(
        RedisBrokerConfig::new(DEAD_REDIS)
            .with_secret(TEST_SECRET)
            .with_channel(unique_channel("away"))
            .with_queue_capacity(4),
    )
    .unwrap();
    broker.start(NodeId(1), Arc::new(|_| panic!("nothing can arrive")));
    let started = std::time::Instant::now();
    for seq in 0..10_000 {
        broker.forward(&publication(NodeId(1), "room:a", "p", seq));
    }
    // Generous: the point is "no waiting for Redis", not speed.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "forward waited for Redis"
    );
    let stats = broker.stats();
    assert!(!stats.link.publisher_up && !stats.link.subscribed);
    assert_eq!(stats.forwarded, 10_000);
    assert_eq!(
        stats.dropped,
        10_000 - 4,
        "the queue holds its capacity, the rest is dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_publications_go_out_once_redis_answers() {
    let url = require_redis().await;
    let channel = unique_channel("late-start");
    let publisher = RedisBroker::new(config(&url, &channel, PubSubMode::Classic)).unwrap();
    // Forwarded before the broker even started: they wait in the queue.
    let early: Vec<_> = (0..5)
        .map(|seq| publication(NodeId(1), "room:a", "p", seq))
        .collect();
    let mut receiver = start_node(config(&url, &channel, PubSubMode::Classic), 2).await;
    for envelope in &early {
        publisher.forward(envelope);
    }
    publisher.start(NodeId(1), Arc::new(|_| {}));
    assert_eq!(receive(&mut receiver.inbox, 5).await, early);
}

#[tokio::test]
async fn unreachable_redis_is_a_clear_error() {
    let error = check_reachable(&RedisBrokerConfig::new(DEAD_REDIS))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unreachable { .. }));
    assert!(
        error
            .to_string()
            .starts_with("Redis is not reachable at 127.0.0.1:1"),
        "{error}"
    );
}

#[tokio::test]
async fn bad_settings_are_refused_up_front() {
    let sealed = |url: &str| RedisBrokerConfig::new(url).with_secret(TEST_SECRET);
    let bad_url = RedisBroker::new(sealed("http://nope")).err().unwrap();
    assert!(matches!(bad_url, Error::InvalidUrl { .. }), "{bad_url}");
    let bad_channel = RedisBroker::new(sealed(DEAD_REDIS).with_channel("a b"));
    assert!(matches!(bad_channel, Err(Error::InvalidConfig(_))));
    let no_queue = RedisBroker::new(sealed(DEAD_REDIS).with_queue_capacity(0));
    assert!(matches!(no_queue, Err(Error::InvalidConfig(_))));
    let no_receive_queue = RedisBroker::new(sealed(DEAD_REDIS).with_receive_capacity(0));
    assert!(matches!(no_receive_queue, Err(Error::InvalidConfig(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_keep_a_healthy_subscription() {
    let url = require_redis().await;
    let channel = unique_channel("health");
    let probed = |id| {
        let config = config(&url, &channel, PubSubMode::Classic)
            .with_health_check_interval(Duration::from_millis(100));
        start_node(config, id)
    };
    let (sender, mut receiver) = (probed(1).await, probed(2).await);
    // Several PINGs go over the subscribed connection meanwhile.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let envelope = publication(sender.id, "room:a", "p", 0);
    sender.broker.forward(&envelope);
    assert_eq!(receive(&mut receiver.inbox, 1).await, [envelope]);
    assert_eq!(
        receiver.broker.stats().link.subscriber_sessions,
        1,
        "a PING was taken for a failure"
    );
}
