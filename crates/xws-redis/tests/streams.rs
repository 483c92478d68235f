//! The Redis stream store against a real Redis: the store contract, one
//! order of offsets for every node, presence across nodes, and the epoch
//! changing whenever Redis may have lost or rewound a stream.

mod support;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use support::{WAIT, redis_admin, require_redis, unique_channel};
use tokio::sync::mpsc;
use xws::{
    BoxFuture, Message, PeerId, Topic,
    stream::{
        Append, Member, PresenceChange, Read, ReadFrom, Retention, StreamEvent, StreamStore,
        contract,
    },
};
use xws_redis::{RedisBrokerConfig, RedisStreams};

const RETENTION: Retention = Retention {
    size: 1000,
    ttl: Duration::from_secs(300),
};

struct WallClock;

impl contract::Clock for WallClock {
    fn now_ms(&self) -> u64 {
        now_ms()
    }
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn config(url: &str, channel: &str) -> RedisBrokerConfig {
    RedisBrokerConfig::new(url)
        .with_channel(channel)
        .with_backoff(Duration::from_millis(20), Duration::from_millis(500))
        .with_health_check_interval(Duration::from_secs(1))
        .with_secret(xws_redis::testing::TEST_SECRET)
}

/// A node: a started store and what its feed delivered.
struct Node {
    store: Arc<RedisStreams>,
    feed: mpsc::UnboundedReceiver<StreamEvent>,
}

async fn node(config: RedisBrokerConfig) -> Node {
    let store = Arc::new(RedisStreams::new(config).unwrap());
    let (feed_in, feed) = mpsc::unbounded_channel();
    assert!(store.start_feed(Arc::new(move |event| {
        let _ = feed_in.send(event);
    })));
    // The feed subscribes in the background: wait until it hears a probe.
    let mut node = Node { store, feed };
    let probe = Topic::new("probe").unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        node.store.append(append(&probe, "probe")).await.unwrap();
        match tokio::time::timeout(Duration::from_millis(100), node.feed.recv()).await {
            Ok(Some(_)) => break,
            _ if tokio::time::Instant::now() < deadline => continue,
            _ => panic!("the stream feed did not subscribe within {WAIT:?}"),
        }
    }
    while node.feed.try_recv().is_ok() {}
    node
}

fn append(topic: &Topic, text: &str) -> Append {
    Append {
        topic: topic.clone(),
        message: Message::from(text.to_owned()),
        publisher: None,
        retention: RETENTION,
        now_ms: now_ms(),
    }
}

fn read(topic: &Topic, from: ReadFrom) -> Read {
    Read {
        topic: topic.clone(),
        from,
        retention: RETENTION,
        now_ms: now_ms(),
    }
}

/// The next `count` announced offsets of `topic` on a feed, in order.
async fn announced(node: &mut Node, topic: &Topic, count: usize) -> Vec<u64> {
    let mut got = Vec::new();
    while got.len() < count {
        let event = tokio::time::timeout(WAIT, node.feed.recv())
            .await
            .unwrap_or_else(|_| panic!("{} of {count} announcements within {WAIT:?}", got.len()))
            .expect("the feed is open");
        if let StreamEvent::Published {
            topic: of,
            publication,
        } = event
        {
            if &of == topic {
                got.push(publication.offset());
            }
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_keeps_the_store_contract() {
    let url = require_redis().await;
    let channel = unique_channel("contract");
    let store = RedisStreams::new(config(&url, &channel)).unwrap();
    contract::check(&store, &WallClock, &channel).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_sees_one_order_of_offsets_from_racing_publishers() {
    const EACH: usize = 100;
    let url = require_redis().await;
    let channel = unique_channel("order");
    let mut a = node(config(&url, &channel)).await;
    let mut b = node(config(&url, &channel)).await;
    let topic = Topic::new("room:race").unwrap();
    let publish = |store: Arc<RedisStreams>, name: &'static str| {
        let topic = topic.clone();
        tokio::spawn(async move {
            // Batches as the engine sends them, racing the other node.
            for chunk in (0..EACH).collect::<Vec<_>>().chunks(10) {
                let batch = chunk
                    .iter()
                    .map(|n| append(&topic, &format!("{name}#{n}")))
                    .collect();
                for result in store.append_all(batch).await {
                    result.unwrap();
                }
            }
        })
    };
    let (one, two) = (publish(a.store.clone(), "a"), publish(b.store.clone(), "b"));
    one.await.unwrap();
    two.await.unwrap();
    let everything = (1..=2 * EACH as u64).collect::<Vec<_>>();
    assert_eq!(
        announced(&mut a, &topic, 2 * EACH).await,
        everything,
        "gapless, in order"
    );
    assert_eq!(
        announced(&mut b, &topic, 2 * EACH).await,
        everything,
        "the same on every node"
    );
    let history = a
        .store
        .read(read(&topic, ReadFrom::After(0)))
        .await
        .unwrap();
    let offsets: Vec<u64> = history.publications.iter().map(|p| p.offset()).collect();
    assert_eq!(offsets, everything);
    for name in ["a", "b"] {
        let mine: Vec<usize> = history
            .publications
            .iter()
            .filter_map(|p| p.message.text().unwrap().strip_prefix(&format!("{name}#")))
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(mine, (0..EACH).collect::<Vec<_>>(), "{name}'s order kept");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_spans_nodes_and_announces_joins_and_leaves() {
    let url = require_redis().await;
    let channel = unique_channel("presence");
    let a = node(config(&url, &channel)).await;
    let mut b = node(config(&url, &channel)).await;
    let topic = Topic::new("room:p").unwrap();
    let ada = Member {
        id: PeerId::from("node-a-1"),
        info: serde_json::json!({ "user": "ada" }),
    };
    assert!(a.store.join(&topic, &ada).await.unwrap());
    assert_eq!(b.store.members(&topic).await.unwrap(), vec![ada.clone()]);
    assert_eq!(b.store.member_count(&topic).await.unwrap(), 1);
    assert!(a.store.leave(&topic, &ada.id).await.unwrap());
    let mut changes = Vec::new();
    while changes.len() < 2 {
        match tokio::time::timeout(WAIT, b.feed.recv())
            .await
            .unwrap()
            .unwrap()
        {
            StreamEvent::Presence(event) => {
                assert_eq!(event.member, ada, "the event carries the member's info");
                changes.push(event.change);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(changes, [PresenceChange::Join, PresenceChange::Leave]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_members_of_a_node_that_stopped_lapse_and_leave() {
    let url = require_redis().await;
    let channel = unique_channel("lapse");
    let config = config(&url, &channel);
    let mut watcher = node(config.clone()).await;
    let topic = Topic::new("room:lapse").unwrap();
    let gone = Member {
        id: PeerId::from("node-gone-1"),
        info: serde_json::Value::Null,
    };
    {
        // A node that joins a member, then stops without leaving: nothing
        // refreshes the membership any more.
        let dying = RedisStreams::new(config.clone())
            .unwrap()
            .with_presence_ttl(Duration::from_secs(1));
        dying.join(&topic, &gone).await.unwrap();
    }
    assert_eq!(watcher.store.member_count(&topic).await.unwrap(), 1);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(watcher.store.members(&topic).await.unwrap(), vec![]);
    let mut changes = Vec::new();
    while changes.len() < 2 {
        if let StreamEvent::Presence(event) = tokio::time::timeout(WAIT, watcher.feed.recv())
            .await
            .unwrap()
            .unwrap()
        {
            changes.push((event.change, event.member.id));
        }
    }
    assert_eq!(
        changes,
        [
            (PresenceChange::Join, gone.id.clone()),
            (PresenceChange::Leave, gone.id)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_node_keeps_its_members_past_the_ttl() {
    let url = require_redis().await;
    let channel = unique_channel("refresh");
    let live = node(config(&url, &channel)).await;
    let store = Arc::into_inner(live.store).unwrap();
    // A fresh store with a short TTL, refreshed by its started feed's task.
    drop(store);
    let store = Arc::new(
        RedisStreams::new(config(&url, &channel))
            .unwrap()
            .with_presence_ttl(Duration::from_secs(1)),
    );
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    store.start_feed(Arc::new(move |event| seen.lock().unwrap().push(event)));
    let topic = Topic::new("room:kept").unwrap();
    let member = Member {
        id: PeerId::from("node-live-1"),
        info: serde_json::Value::Null,
    };
    store.join(&topic, &member).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(store.members(&topic).await.unwrap(), vec![member]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_redis_may_have_rewound_starts_a_new_epoch() {
    let url = require_redis().await;
    let channel = unique_channel("epoch");
    let store = RedisStreams::new(config(&url, &channel)).unwrap();
    let topic = Topic::new("room:e").unwrap();
    for n in 0..3 {
        store.append(append(&topic, &format!("{n}"))).await.unwrap();
    }
    let before = store
        .read(read(&topic, ReadFrom::Latest(0)))
        .await
        .unwrap()
        .position;
    assert_eq!(before.offset, 3);
    let mut admin = redis_admin(&url).await;
    let meta = format!("{channel}:stream:{topic}:meta");

    // Written by another Redis run (a restart, a failover): never trusted.
    let _: () = redis::cmd("HSET")
        .arg(&meta)
        .arg("run")
        .arg("another-run")
        .query_async(&mut admin)
        .await
        .unwrap();
    let after = store
        .append(append(&topic, "after a restart"))
        .await
        .unwrap();
    assert_eq!(after.offset(), 1);
    assert_ne!(after.position.epoch, before.epoch);
    let page = store.read(read(&topic, ReadFrom::After(0))).await.unwrap();
    assert_eq!(page.publications.len(), 1, "the old epoch's log is gone");

    // Lost altogether (expired, flushed).
    let _: () = redis::cmd("DEL")
        .arg(&meta)
        .query_async(&mut admin)
        .await
        .unwrap();
    let fresh = store
        .read(read(&topic, ReadFrom::Latest(0)))
        .await
        .unwrap()
        .position;
    assert_eq!(fresh.offset, 0);
    assert_ne!(fresh.epoch, after.position.epoch);
}
