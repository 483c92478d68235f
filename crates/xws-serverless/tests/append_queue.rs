//! The history's append queue is bounded. With its Redis paused (a private
//! `redis-server` stopped with SIGSTOP, not the shared one), publications
//! past the queue's capacity are refused at once with `QueueFull` and
//! counted, while those it took wait for Redis; once Redis runs again,
//! exactly those are kept, in order.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use xws::Error;
use xws::adapter::NodeId;
use xws::stream::{Read, ReadFrom, Retention, StreamConfig, StreamStore, TopicPolicy};
use xws_redis::testing::{PrivateRedis, TEST_SECRET, unique_channel};
use xws_redis::{RedisBrokerConfig, RedisStreams};
use xws_serverless::{HistoryStats, InstanceTopics, TokioRuntime};

const CAPACITY: usize = 8;
const PUBLISHED: usize = 100;
const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_append_queue_refuses_at_once_and_counts_while_redis_is_paused() {
    let redis = PrivateRedis::start();
    let config = RedisBrokerConfig::new(redis.url())
        .with_secret(TEST_SECRET)
        .with_channel(unique_channel("append-queue"))
        // Longer than the pause: what the queue took is kept, not failed.
        .with_response_timeout(Duration::from_secs(60));
    let store = Arc::new(RedisStreams::new(config).unwrap());
    let retention = Retention::new(1000, Duration::from_secs(600));
    let streams = StreamConfig::new().rule("jobs", TopicPolicy::history(retention));
    let topics = InstanceTopics::with_history_append_capacity(
        NodeId(1),
        None,
        streams,
        store.clone(),
        TokioRuntime,
        CAPACITY,
    );
    tokio::time::timeout(WAIT, store.feed_ready())
        .await
        .expect("the stream feed is not subscribed");
    let hub = topics.hub();
    hub.publish("jobs", "before").await.unwrap();

    redis.pause();
    let publications: Vec<_> = (0..PUBLISHED)
        .map(|n| tokio::spawn(hub.publish("jobs", format!("during {n}")).into_future()))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        topics.history_stats(),
        Some(HistoryStats {
            queued: CAPACITY,
            capacity: CAPACITY,
            overflowed: (PUBLISHED - CAPACITY) as u64,
        }),
        "the queue holds its capacity and counts every refusal"
    );
    let mut waiting = Vec::new();
    for (n, publication) in publications.into_iter().enumerate() {
        if n < CAPACITY {
            assert!(
                !publication.is_finished(),
                "publication {n} was taken: it waits for Redis"
            );
            waiting.push(publication);
        } else {
            assert!(
                publication.is_finished(),
                "publication {n} past the capacity still waits while Redis is paused"
            );
            let refused = publication.await.unwrap();
            assert!(
                matches!(refused, Err(Error::QueueFull)),
                "publication {n}: {refused:?}"
            );
        }
    }

    redis.resume();
    for publication in waiting {
        tokio::time::timeout(WAIT, publication)
            .await
            .expect("a queued publication still waits once Redis runs")
            .unwrap()
            .expect("a queued publication was not kept");
    }
    assert_eq!(topics.history_stats().unwrap().queued, 0);
    hub.publish("jobs", "after").await.unwrap();

    let page = store
        .read(Read {
            topic: xws::Topic::new("jobs").unwrap(),
            from: ReadFrom::After(0),
            retention,
            now_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64,
        })
        .await
        .unwrap();
    let kept: Vec<String> = page
        .publications
        .iter()
        .map(|p| p.message.text().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = std::iter::once("before".to_owned())
        .chain((0..CAPACITY).map(|n| format!("during {n}")))
        .chain(std::iter::once("after".to_owned()))
        .collect();
    assert_eq!(kept, expected, "exactly what the queue took, in order");
}
