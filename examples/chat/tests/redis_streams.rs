//! History across chat nodes when Redis misbehaves: a node whose feed
//! connection is cut catches up from history, and a Redis restarted while
//! publishing (a private `redis-server` this test starts on a free port, not
//! the shared one) costs the messages of the outage and an epoch, never an
//! order or a duplicate.

mod nodes;

use nodes::*;
use serde_json::{Value, json};
use std::time::Duration;
use xws_redis::testing::PrivateRedis;
use xws_testkit::chat::join_room_with;

/// The room messages a client got, in order: (text, offset, epoch).
async fn messages(client: &mut Client, count: usize) -> Vec<(String, u64, String)> {
    let mut got = Vec::with_capacity(count);
    while got.len() < count {
        let frame = client.next_json().await;
        if frame["type"] == "message" {
            got.push(position(&frame));
        }
    }
    got
}

fn position(frame: &Value) -> (String, u64, String) {
    (
        frame["text"].as_str().unwrap_or_default().to_owned(),
        frame["offset"].as_u64().unwrap_or(0),
        frame["epoch"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Joins with `extra` fields and returns `joined`.
async fn join_with(client: &mut Client, room: &str, extra: Value) -> Value {
    client.send_json(join_room_with(room, extra)).await;
    let joined = client.next_json().await;
    assert_eq!(joined["type"], "joined", "{joined}");
    joined
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_feed_was_cut_catches_up_from_history() {
    let url = require_redis().await;
    let channel = unique_channel("feed-cut");
    let nodes = start_chat_nodes(&url, &channel, 2).await;
    let mut speaker = Client::connect(&nodes[0], "speaker").await;
    let mut remote = Client::connect(&nodes[1], "remote").await;
    speaker.join("lobby").await;
    remote.join("lobby").await;
    for n in 0..5 {
        speaker.say("lobby", &format!("before {n}")).await;
    }
    let before = messages(&mut remote, 5).await;

    // Node 2 stops hearing the feed: what is published now reaches it only
    // through the history, once the feed is back.
    kill_connection(&url, &format!("xws:{channel}:streams:feed")).await;
    for n in 0..20 {
        speaker.say("lobby", &format!("during {n}")).await;
    }
    let during = messages(&mut remote, 20).await;
    let texts: Vec<&str> = during.iter().map(|(text, ..)| text.as_str()).collect();
    let expected: Vec<String> = (0..20).map(|n| format!("during {n}")).collect();
    assert_eq!(texts, expected, "every message once, in order");
    let offsets: Vec<u64> = before
        .iter()
        .chain(&during)
        .map(|(_, offset, _)| *offset)
        .collect();
    assert_eq!(offsets, (1..=25).collect::<Vec<_>>());
    remote.assert_quiet().await;
}

/// Redis crashes and comes back empty while a speaker on node 1 keeps
/// talking to a listener on node 2. What the listener sees: the messages
/// before the crash (epoch E1, offsets 1..); those sent while Redis was
/// away, late and without a position (they could not be appended, so they
/// went out as without streams: at once on the speaker's node, through the
/// broker's queue once Redis was back), at most once each; then the
/// messages after it in a new epoch E2 whose offsets start again at 1, in
/// order. Never a message twice. A client that rejoins with its E1 position
/// is told `recovered: false`; one with an E2 position recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_costs_the_outage_and_an_epoch_never_order_or_uniqueness() {
    let mut redis = PrivateRedis::start();
    let nodes = start_chat_nodes(&redis.url(), &unique_channel("restart"), 2).await;
    let mut speaker = Client::connect(&nodes[0], "speaker").await;
    let mut listener = Client::connect(&nodes[1], "listener").await;
    speaker.join("lobby").await;
    listener.join("lobby").await;
    for n in 0..10 {
        speaker.say("lobby", &format!("before {n}")).await;
    }
    let before = messages(&mut listener, 10).await;
    let old_epoch = before[0].2.clone();
    assert!(before.iter().all(|(_, _, epoch)| *epoch == old_epoch));

    redis.kill();
    for n in 0..5 {
        speaker.say("lobby", &format!("during {n}")).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    redis.restart();
    for node in &nodes {
        tokio::time::timeout(WAIT, node.broker.ready())
            .await
            .expect("the broker reconnected after the restart");
    }
    // Until a node notices that its stream connection died with the old
    // Redis, a publication may still fail: send until five come through.
    // The outage's messages, queued by the broker, may arrive first and do
    // not count.
    let mut after: Vec<(String, u64, String)> = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut n = 0;
    while after
        .iter()
        .filter(|(text, ..)| text.starts_with("after "))
        .count()
        < 5
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no message made it after the restart"
        );
        speaker.say("lobby", &format!("after {n}")).await;
        n += 1;
        if let Ok(frame) =
            tokio::time::timeout(Duration::from_millis(300), listener.next_json()).await
        {
            assert_eq!(frame["type"], "message", "{frame}");
            after.push(position(&frame));
        }
    }
    // Then whatever else comes within half a second.
    while let Ok(frame) =
        tokio::time::timeout(Duration::from_millis(500), listener.next_json()).await
    {
        after.push(position(&frame));
    }
    let mut texts: Vec<&str> = after.iter().map(|(text, ..)| text.as_str()).collect();
    let count = texts.len();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(texts.len(), count, "no message twice: {after:?}");
    // The outage's messages never got a position: they went out as without
    // streams (locally, and through the broker's queue once it was back).
    let (positioned, unpositioned): (Vec<_>, Vec<_>) =
        after.iter().partition(|(_, offset, _)| *offset > 0);
    assert!(
        unpositioned
            .iter()
            .all(|(text, ..)| text.starts_with("during ")),
        "only the outage's messages lack a position: {unpositioned:?}"
    );
    assert!(
        positioned
            .iter()
            .all(|(text, ..)| text.starts_with("after ")),
        "every message after the restart has a position: {positioned:?}"
    );
    let numbers: Vec<u32> = positioned
        .iter()
        .map(|(text, ..)| text[6..].parse().unwrap())
        .collect();
    assert!(
        numbers.windows(2).all(|w| w[0] < w[1]),
        "in order: {numbers:?}"
    );
    let new_epoch = positioned[0].2.clone();
    assert_ne!(new_epoch, old_epoch, "Redis came back empty: a new epoch");
    assert!(positioned.iter().all(|(_, _, epoch)| *epoch == new_epoch));
    let offsets: Vec<u64> = positioned.iter().map(|(_, offset, _)| *offset).collect();
    assert!(
        offsets.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive offsets in the new epoch: {offsets:?}"
    );
    tracing::info!(
        during = unpositioned.len(),
        after = positioned.len(),
        first_new_offset = offsets[0],
        "what the listener saw across the restart"
    );

    let mut returning = Client::connect(&nodes[0], "returning").await;
    let joined = join_with(
        &mut returning,
        "lobby",
        json!({ "since": { "offset": before[9].1, "epoch": old_epoch } }),
    )
    .await;
    assert_eq!(joined["recovered"], false, "{joined}");
    let last = positioned.last().unwrap();
    let mut current = Client::connect(&nodes[1], "current").await;
    let joined = join_with(
        &mut current,
        "lobby",
        json!({ "since": { "offset": last.1, "epoch": last.2 } }),
    )
    .await;
    assert_eq!(joined["recovered"], true, "{joined}");
}
