//! Several brokers in one process are several nodes sharing one real Redis.

mod support;

use std::collections::BTreeMap;
use support::*;
use xws::{
    Message,
    adapter::{Broker, Envelope, NodeId, Target},
};
use xws_redis::PubSubMode;

const PER_SENDER: u32 = 200;
const SENDERS_PER_NODE: u64 = 2;

fn sender(node: NodeId, index: u64) -> String {
    format!("n{}-p{index}", node.0)
}

/// Every node's senders publish concurrently; every other node must get each
/// publication once, each sender's in order, and never its own.
async fn exactly_once_in_order(mode: PubSubMode, node_count: u64) {
    let url = require_redis().await;
    let channel = unique_channel(&format!("exactly-once-{node_count}-{mode:?}"));
    let mut nodes = start_nodes(&url, &channel, mode, node_count).await;

    let publishers: Vec<_> = nodes
        .iter()
        .map(|node| {
            let (broker, id) = (node.broker.clone(), node.id);
            tokio::spawn(async move {
                for seq in 0..PER_SENDER {
                    for index in 0..SENDERS_PER_NODE {
                        let room = if index == 0 { "room:a" } else { "room:b" };
                        broker.forward(&publication(id, room, &sender(id, index), seq));
                    }
                    if seq % 16 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.await.unwrap();
    }

    let expected_per_node = ((node_count - 1) * SENDERS_PER_NODE) as usize * PER_SENDER as usize;
    for node in &mut nodes {
        let got = receive(&mut node.inbox, expected_per_node).await;
        assert_quiet(&mut node.inbox).await;
        let mut by_sender: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for envelope in &got {
            assert_ne!(envelope.origin, node.id, "a node got its own envelope back");
            let (sender, seq) = sender_and_seq(envelope);
            by_sender.entry(sender).or_default().push(seq);
        }
        let expected: Vec<u32> = (0..PER_SENDER).collect();
        for other in nodes_except(node_count, node.id) {
            for index in 0..SENDERS_PER_NODE {
                let name = sender(other, index);
                assert_eq!(
                    by_sender.get(&name),
                    Some(&expected),
                    "node {} saw sender {name} out of order, twice or not at all",
                    node.id
                );
            }
        }
        let stats = node.broker.stats();
        assert_eq!(stats.received, expected_per_node as u64);
        assert_eq!(stats.dropped, 0);
        assert_eq!(stats.own_skipped, u64::from(PER_SENDER) * SENDERS_PER_NODE);
    }
}

fn nodes_except(count: u64, me: NodeId) -> impl Iterator<Item = NodeId> {
    (1..=count).map(NodeId).filter(move |id| *id != me)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_exactly_once_in_sender_order() {
    exactly_once_in_order(PubSubMode::Classic, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_deliver_exactly_once_in_sender_order() {
    exactly_once_in_order(PubSubMode::Classic, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_pub_sub_delivers_exactly_once_in_sender_order() {
    exactly_once_in_order(PubSubMode::Sharded, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_and_send_to_cross_nodes_unchanged() {
    let url = require_redis().await;
    let mut nodes = start_nodes(&url, &unique_channel("targets"), PubSubMode::Classic, 2).await;
    let origin = nodes[0].id;
    let sent = [
        Envelope {
            origin,
            target: Target::Broadcast,
            message: Message::from("to everyone"),
        },
        Envelope {
            origin,
            target: Target::Peer("peer-on-node-2".into()),
            message: Message::from(vec![0u8, 255, 7]),
        },
        publication(origin, "room:a", "n1-p0", 0),
    ];
    for envelope in &sent {
        nodes[0].broker.forward(envelope);
    }
    let got = receive(&mut nodes[1].inbox, sent.len()).await;
    assert_eq!(
        got, sent,
        "targets, kinds and payloads must cross unchanged"
    );
    assert_quiet(&mut nodes[0].inbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_messages_on_the_channel_are_skipped_and_counted() {
    let url = require_redis().await;
    let channel = unique_channel("foreign");
    let mut nodes = start_nodes(&url, &channel, PubSubMode::Classic, 2).await;
    let mut admin = redis_admin(&url).await;
    let _: i64 = redis::cmd("PUBLISH")
        .arg(&channel)
        .arg("not an envelope")
        .query_async(&mut admin)
        .await
        .unwrap();
    let valid = publication(nodes[0].id, "room:a", "n1-p0", 1);
    nodes[0].broker.forward(&valid);
    assert_eq!(receive(&mut nodes[1].inbox, 1).await, [valid]);
    // Without a seal, it is refused before anyone tries to decode it.
    assert_eq!(nodes[1].broker.stats().refused, 1);
}
