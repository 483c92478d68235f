//! Chat-room mode: every client of one room sends batches; each message must reach all others.
//!
//! This is how crossws and Bun measure chat servers: a client sends a batch, then waits until it
//! has received the batch of every other client for that round before sending the next, so
//! the server is always busy and nobody floods it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::connect::{Client, connect_and_join_many};
use super::stats::{Latencies, Outcome};
use super::{DRAIN_TIMEOUT, REPLY_TIMEOUT};
use crate::protocol::{ChatRequest, Stamp};

/// What a chat-room run sends.
#[derive(Debug, Clone, Copy)]
pub struct ChatLoad {
    /// Clients in the room.
    pub clients: usize,
    /// Messages each client sends per round.
    pub batch: usize,
    /// How long clients keep starting new rounds.
    pub duration: Duration,
}

/// The room every chat-room client joins.
pub const ROOM: &str = "bench";

/// Runs the chat-room load against the chat endpoint `url`.
pub async fn run(url: &str, load: ChatLoad) -> Outcome {
    let opened = connect_and_join_many(url, ROOM, load.clients).await;
    let receivers = opened.clients.len();
    let others = receivers.saturating_sub(1) as u64;
    let clock = Instant::now();
    let last_delivery_us = Arc::new(AtomicU64::new(0));
    let total_received = Arc::new(AtomicU64::new(0));
    let deadline = clock + load.duration;
    let (stop, stopped) = watch::channel(false);
    let mut senders = Vec::with_capacity(receivers);
    let mut listeners = Vec::with_capacity(receivers);
    for (index, client) in opened.clients.into_iter().enumerate() {
        let (sink, stream) = client.split();
        let (progress, watcher) = watch::channel(0_u64);
        let shared = Shared {
            clock,
            last_delivery_us: Arc::clone(&last_delivery_us),
            total_received: Arc::clone(&total_received),
            stopped: stopped.clone(),
        };
        listeners.push(tokio::spawn(listen(stream, index as u32, progress, shared)));
        let rounds = Rounds {
            index: index as u32,
            batch: load.batch,
            others,
            deadline,
            clock,
        };
        senders.push(tokio::spawn(send_rounds(sink, watcher, rounds)));
    }
    let mut sent = 0_u64;
    for sender in senders {
        sent += sender.await.unwrap_or(0);
    }
    let expected = sent * others;
    let drain_deadline = Instant::now() + DRAIN_TIMEOUT;
    while total_received.load(Ordering::Relaxed) < expected && Instant::now() < drain_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);
    let mut latencies = Latencies::default();
    for listener in listeners {
        if let Ok(own) = listener.await {
            latencies.merge(&own);
        }
    }
    let received = latencies.len();
    let window = Duration::from_micros(last_delivery_us.load(Ordering::Relaxed)).as_secs_f64();
    Outcome {
        msgs_per_s: if window > 0.0 {
            received as f64 / window
        } else {
            0.0
        },
        delivered: received,
        latencies,
        // A client that never joined counts once: it is a lost connection, not lost messages.
        lost: expected.saturating_sub(received) + opened.failed as u64,
    }
}

struct Shared {
    clock: Instant,
    last_delivery_us: Arc<AtomicU64>,
    total_received: Arc<AtomicU64>,
    stopped: watch::Receiver<bool>,
}

struct Rounds {
    index: u32,
    batch: usize,
    others: u64,
    deadline: Instant,
    clock: Instant,
}

/// Sends rounds until the deadline; returns how many messages went out.
async fn send_rounds(
    mut sink: SplitSink<Client, Message>,
    mut progress: watch::Receiver<u64>,
    rounds: Rounds,
) -> u64 {
    let mut seq = 0_u32;
    let mut round = 0_u64;
    while Instant::now() < rounds.deadline {
        for _ in 0..rounds.batch {
            let stamp = Stamp {
                sender: rounds.index,
                seq,
                sent_us: rounds.clock.elapsed().as_micros() as u64,
            };
            let request = ChatRequest::SendToRoom {
                room_id: ROOM.to_owned(),
                text: stamp.encode(),
            };
            let Ok(json) = serde_json::to_string(&request) else {
                return u64::from(seq);
            };
            if sink.feed(Message::text(json)).await.is_err() {
                return u64::from(seq);
            }
            seq += 1;
        }
        if sink.flush().await.is_err() {
            return u64::from(seq);
        }
        round += 1;
        let target = round * rounds.batch as u64 * rounds.others;
        let wait = progress.wait_for(|received| *received >= target);
        match tokio::time::timeout(REPLY_TIMEOUT, wait).await {
            Ok(Ok(_)) => {}
            _ => break,
        }
    }
    u64::from(seq)
}

/// Receives until told to stop; returns the latency of every message from another client.
async fn listen(
    mut stream: SplitStream<Client>,
    own_index: u32,
    progress: watch::Sender<u64>,
    mut shared: Shared,
) -> Latencies {
    let mut latencies = Latencies::default();
    let mut received = 0_u64;
    loop {
        let message = tokio::select! {
            _ = shared.stopped.wait_for(|stop| *stop) => break,
            message = stream.next() => message,
        };
        let Some(Ok(message)) = message else { break };
        let Message::Text(text) = message else {
            continue;
        };
        let Some(stamp) = Stamp::find(&text) else {
            continue;
        };
        if stamp.sender == own_index {
            continue;
        }
        let now_us = shared.clock.elapsed().as_micros() as u64;
        latencies.record_micros(now_us.saturating_sub(stamp.sent_us));
        shared.last_delivery_us.fetch_max(now_us, Ordering::Relaxed);
        shared.total_received.fetch_add(1, Ordering::Relaxed);
        received += 1;
        progress.send_replace(received);
    }
    latencies
}
