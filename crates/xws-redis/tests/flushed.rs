//! `RedisBroker::flushed`: a function that publishes and then ends waits for
//! Redis to have its publications, not for a queue that dies with it.

mod support;

use support::*;
use xws::adapter::Broker;
use xws_redis::PubSubMode;

#[tokio::test]
async fn flushed_resolves_once_redis_has_every_forwarded_envelope() {
    let url = require_redis().await;
    let channel = unique_channel("flushed");
    let mut nodes = start_nodes(&url, &channel, PubSubMode::Classic, 2).await;
    let sender = &nodes[0];
    for seq in 0..500 {
        sender
            .broker
            .forward(&publication(sender.id, "room:a", "p", seq));
    }
    tokio::time::timeout(WAIT, sender.broker.flushed())
        .await
        .expect("flushed() did not resolve");
    // Nothing is left in the queue: all were published (none dropped here).
    let stats = sender.broker.stats();
    assert_eq!((stats.forwarded, stats.published), (500, 500));
    receive(&mut nodes[1].inbox, 500).await;
}

#[tokio::test]
async fn flushed_with_nothing_forwarded_resolves_at_once() {
    let url = require_redis().await;
    let node = start_node(
        config(&url, &unique_channel("flushed-empty"), PubSubMode::Classic),
        1,
    )
    .await;
    tokio::time::timeout(WAIT, node.broker.flushed())
        .await
        .expect("flushed() waited with an empty queue");
}
