//! Broker-level cost of crossing nodes through a real Redis: latency of one
//! envelope from `forward` on node 1 to `deliver` on node 2, and burst
//! throughput. Run with `cargo bench -p xws-redis --bench cross_node`.
#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::{
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::mpsc;
use xws::{
    Message, Topic,
    adapter::{Broker, Envelope, NodeId, Target},
};
use xws_redis::{RedisBroker, RedisBrokerConfig, check_reachable};

const ROUND_TRIPS: usize = 2_000;
const BURST: usize = 100_000;
const PAYLOAD: usize = 128;

async fn node(
    url: &str,
    channel: &str,
    id: u64,
) -> (RedisBroker, mpsc::UnboundedReceiver<Instant>) {
    let config = RedisBrokerConfig::new(url)
        .with_secret(xws_redis::testing::TEST_SECRET)
        .with_channel(channel)
        .with_queue_capacity(BURST);
    let broker = RedisBroker::new(config).expect("valid config");
    let (arrivals_in, arrivals) = mpsc::unbounded_channel();
    broker.start(
        NodeId(id),
        Arc::new(move |_envelope| {
            let _ = arrivals_in.send(Instant::now());
        }),
    );
    tokio::time::timeout(Duration::from_secs(10), broker.ready())
        .await
        .expect("the broker did not connect to Redis");
    (broker, arrivals)
}

async fn next(arrivals: &mut mpsc::UnboundedReceiver<Instant>) -> Instant {
    tokio::time::timeout(Duration::from_secs(10), arrivals.recv())
        .await
        .expect("an envelope was lost")
        .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let url = std::env::var("XWS_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    if let Err(error) = check_reachable(&RedisBrokerConfig::new(&url)).await {
        panic!("{error}: start it with `redis-server --port 6379 --daemonize yes`");
    }
    let channel = format!("xws-bench:{}", std::process::id());
    let (sender, _) = node(&url, &channel, 1).await;
    let (_receiver, mut arrivals) = node(&url, &channel, 2).await;
    let envelope = Envelope {
        origin: NodeId(1),
        target: Target::Topic {
            topic: Topic::new("room:bench").unwrap(),
            exclude: Some("p1".into()),
        },
        message: Message::from(vec![b'x'; PAYLOAD]),
    };
    let mut latencies = Vec::with_capacity(ROUND_TRIPS);
    for _ in 0..ROUND_TRIPS {
        let sent = Instant::now();
        sender.forward(&envelope);
        latencies.push(next(&mut arrivals).await - sent);
    }
    latencies.sort();
    println!(
        "cross-node latency, {PAYLOAD} B, {ROUND_TRIPS} one at a time: p50 {:?}  p99 {:?}  max {:?}",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1],
    );

    let started = Instant::now();
    for _ in 0..BURST {
        sender.forward(&envelope);
    }
    let mut last = started;
    for _ in 0..BURST {
        last = next(&mut arrivals).await;
    }
    let elapsed = last - started;
    let stats = sender.stats();
    println!(
        "cross-node burst: {BURST} envelopes in {elapsed:?} = {:.0}/s (dropped {})",
        BURST as f64 / elapsed.as_secs_f64(),
        stats.dropped,
    );
}
