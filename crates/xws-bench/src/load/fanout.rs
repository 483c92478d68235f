//! Fan-out mode: thousands of subscribers in one room, one publisher at a steady rate.
//!
//! The publisher is a designated connection in the room sending `send-to-room` (the server
//! skips it), which every server under test supports the same way. For each published message
//! the latency is the time until the *last* subscriber has it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::DRAIN_TIMEOUT;
use super::connect::{Client, ClientProfile, connect, connect_and_join_many, join_room};
use super::stats::{Latencies, Outcome};
use crate::protocol::{ChatRequest, Stamp};

/// What a fan-out run sends.
#[derive(Debug, Clone, Copy)]
pub struct FanoutLoad {
    /// Subscribers in the room.
    pub subscribers: usize,
    /// Messages published per second.
    pub rate_per_s: u32,
    /// How long the publisher publishes.
    pub duration: Duration,
}

/// The room of the fan-out run.
pub const ROOM: &str = "fanout";

/// Sender index carried by the publisher's stamps.
const PUBLISHER: u32 = u32::MAX;

/// Per published message: deliveries seen and the slowest one; plus the last delivery overall.
struct Tally {
    deliveries: Vec<AtomicU64>,
    slowest_us: Vec<AtomicU64>,
    last_delivery_us: AtomicU64,
}

/// Runs the fan-out load against the chat endpoint `url`, in [`ROOM`].
pub async fn run(url: &str, load: FanoutLoad) -> anyhow::Result<Outcome> {
    let room = join(url, ROOM, load.subscribers, load.subscribers).await?;
    let (outcome, room) = publish(room, load).await?;
    room.close().await;
    Ok(outcome)
}

/// A room joined by its subscribers and its publisher, ready to publish in: what a fan-out
/// costs the server can then be measured apart from what the joins cost it.
pub struct JoinedRoom {
    room: String,
    subscribers: Vec<Client>,
    failed: usize,
    publisher: Client,
}

impl JoinedRoom {
    /// Subscribers that joined.
    pub fn subscribers(&self) -> usize {
        self.subscribers.len()
    }

    /// Closes the publisher's connection and drops the subscribers'.
    pub async fn close(mut self) {
        let _ = self.publisher.close(None).await;
    }
}

/// Opens `subscribers` connections and a publisher's at the chat endpoint `url`, all joined
/// to `room`, `at_once` subscribers at a time (a server that handles one event at a time,
/// such as a local Lambda function, would time out the rest); subscribers that failed to
/// join are counted, the publisher must join.
pub async fn join(
    url: &str,
    room: &str,
    subscribers: usize,
    at_once: usize,
) -> anyhow::Result<JoinedRoom> {
    let mut joined = Vec::with_capacity(subscribers);
    let mut failed = 0;
    while joined.len() + failed < subscribers {
        let batch = at_once.max(1).min(subscribers - joined.len() - failed);
        let opened = connect_and_join_many(url, room, batch).await;
        joined.extend(opened.clients);
        failed += opened.failed;
    }
    let mut publisher = connect(url, ClientProfile::Throughput).await?;
    join_room(&mut publisher, room).await?;
    Ok(JoinedRoom {
        room: room.to_owned(),
        subscribers: joined,
        failed,
        publisher,
    })
}

/// Publishes `load` (its rate and duration; its subscriber count is the room's) in `room`
/// and waits for the deliveries; the room is handed back still open, so that what its
/// connections' closing costs the server can be kept out of a measurement.
pub async fn publish(room: JoinedRoom, load: FanoutLoad) -> anyhow::Result<(Outcome, JoinedRoom)> {
    let JoinedRoom {
        room,
        subscribers: joined,
        failed,
        mut publisher,
    } = room;
    let messages = (load.duration.as_secs_f64() * f64::from(load.rate_per_s)).ceil() as usize;
    let tally = Arc::new(Tally {
        deliveries: (0..messages).map(|_| AtomicU64::new(0)).collect(),
        slowest_us: (0..messages).map(|_| AtomicU64::new(0)).collect(),
        last_delivery_us: AtomicU64::new(0),
    });
    let clock = Instant::now();
    let (stop, stopped) = watch::channel(false);
    let subscribers = joined.len() as u64;
    let listeners: Vec<_> = joined
        .into_iter()
        .map(|client| tokio::spawn(listen(client, Arc::clone(&tally), clock, stopped.clone())))
        .collect();

    let mut ticks = tokio::time::interval(Duration::from_secs(1) / load.rate_per_s.max(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut published = 0;
    for seq in 0..messages {
        ticks.tick().await;
        let stamp = Stamp {
            sender: PUBLISHER,
            seq: seq as u32,
            sent_us: micros(clock),
        };
        let request = ChatRequest::SendToRoom {
            room_id: room.clone(),
            text: stamp.encode(),
        };
        if publisher
            .send(Message::text(serde_json::to_string(&request)?))
            .await
            .is_err()
        {
            break;
        }
        published += 1;
    }
    let expected = published as u64 * subscribers;
    let delivered = || {
        tally
            .deliveries
            .iter()
            .map(|count| count.load(Ordering::Relaxed))
            .sum::<u64>()
    };
    let drain_deadline = Instant::now() + DRAIN_TIMEOUT;
    while delivered() < expected && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);
    let mut subscribers_back = Vec::with_capacity(listeners.len());
    for listener in listeners {
        if let Ok(client) = listener.await {
            subscribers_back.push(client);
        }
    }
    let outcome = summarize(&tally, published, subscribers, failed as u64);
    let room = JoinedRoom {
        room,
        subscribers: subscribers_back,
        failed,
        publisher,
    };
    Ok((outcome, room))
}

fn summarize(tally: &Tally, published: usize, subscribers: u64, failed: u64) -> Outcome {
    let mut latencies = Latencies::default();
    let mut delivered = 0;
    for seq in 0..published {
        let count = tally.deliveries[seq].load(Ordering::Relaxed);
        delivered += count;
        // Only a message every subscriber got has a "last subscriber" latency; the rest are
        // counted as lost deliveries.
        if count == subscribers {
            latencies.record_micros(tally.slowest_us[seq].load(Ordering::Relaxed));
        }
    }
    let window =
        Duration::from_micros(tally.last_delivery_us.load(Ordering::Relaxed)).as_secs_f64();
    Outcome {
        msgs_per_s: if window > 0.0 {
            delivered as f64 / window
        } else {
            0.0
        },
        delivered,
        latencies,
        lost: (published as u64 * subscribers).saturating_sub(delivered)
            + failed * published as u64,
    }
}

fn micros(clock: Instant) -> u64 {
    u64::try_from(clock.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Receives publications until told to stop; hands the connection back.
async fn listen(
    mut client: Client,
    tally: Arc<Tally>,
    clock: Instant,
    mut stopped: watch::Receiver<bool>,
) -> Client {
    loop {
        let message = tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => break,
            message = client.next() => message,
        };
        let Some(Ok(message)) = message else { break };
        let Message::Text(text) = message else {
            continue;
        };
        let Some(stamp) = Stamp::find(&text) else {
            continue;
        };
        let seq = stamp.seq as usize;
        if stamp.sender != PUBLISHER || seq >= tally.deliveries.len() {
            continue;
        }
        let now_us = micros(clock);
        tally.deliveries[seq].fetch_add(1, Ordering::Relaxed);
        tally.slowest_us[seq].fetch_max(now_us.saturating_sub(stamp.sent_us), Ordering::Relaxed);
        tally.last_delivery_us.fetch_max(now_us, Ordering::Relaxed);
    }
    client
}
