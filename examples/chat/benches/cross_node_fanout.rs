//! Fan-out latency of a room message, one node against two nodes joined by
//! Redis: real chat servers, real WebSocket clients, a real Redis.
//! Run with `cargo bench -p chat --bench cross_node_fanout`.
#![allow(clippy::print_stdout)] // a benchmark reports on stdout

#[path = "../tests/nodes/mod.rs"]
mod nodes;

use nodes::*;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const SUBSCRIBERS: usize = 100;
const ROUNDS: usize = 300;

/// Sends `ROUNDS` messages one at a time from a client on `nodes[0]`; each
/// round ends when every subscriber has it. Subscriber `i` sits on
/// `nodes[placement(i)]`. Returns the per-round time to the last subscriber.
async fn fan_out(nodes: &[ChatNode], placement: impl Fn(usize) -> usize) -> Vec<Duration> {
    let (arrivals_in, mut arrivals) = mpsc::unbounded_channel();
    for i in 0..SUBSCRIBERS {
        let mut client = Client::connect(&nodes[placement(i)], &format!("s{i}")).await;
        client.join("bench").await;
        let arrivals_in = arrivals_in.clone();
        tokio::spawn(async move {
            for _ in 0..ROUNDS {
                client.next_json().await;
                let _ = arrivals_in.send(Instant::now());
            }
        });
    }
    let mut sender = Client::connect(&nodes[0], "sender").await;
    sender.join("bench").await;
    let mut rounds = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let sent = Instant::now();
        sender.say("bench", &round.to_string()).await;
        let mut last = sent;
        for _ in 0..SUBSCRIBERS {
            last = tokio::time::timeout(WAIT, arrivals.recv())
                .await
                .expect("a subscriber missed a message")
                .unwrap();
        }
        rounds.push(last - sent);
    }
    rounds.sort();
    rounds
}

fn report(name: &str, rounds: &[Duration]) {
    let at = |p: f64| rounds[((rounds.len() - 1) as f64 * p).round() as usize];
    println!(
        "{name:<44} p50 {:>9.3?}  p90 {:>9.3?}  p99 {:>9.3?}",
        at(0.5),
        at(0.9),
        at(0.99)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = require_redis().await;
    println!(
        "room fan-out to {SUBSCRIBERS} WebSocket subscribers, {ROUNDS} rounds, time to the last one:"
    );
    let single = start_chat_nodes(&url, &unique_channel("bench-single"), 1).await;
    report("one node", &fan_out(&single, |_| 0).await);
    drop(single);
    let pair = start_chat_nodes(&url, &unique_channel("bench-split"), 2).await;
    report(
        "two nodes via Redis, subscribers split 50/50",
        &fan_out(&pair, |i| i % 2).await,
    );
    drop(pair);
    let pair = start_chat_nodes(&url, &unique_channel("bench-remote"), 2).await;
    report(
        "two nodes via Redis, all subscribers remote",
        &fan_out(&pair, |_| 1).await,
    );
}
