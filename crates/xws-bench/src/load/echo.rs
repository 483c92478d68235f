//! Echo mode: each connection sends one message and waits for its echo before the next.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use super::REPLY_TIMEOUT;
use super::connect::{Client, ClientProfile, connect_many};
use super::stats::{Latencies, Outcome};

/// What an echo run sends.
#[derive(Debug, Clone, Copy)]
pub struct EchoLoad {
    /// Concurrent connections.
    pub connections: usize,
    /// Bytes per message.
    pub message_size: usize,
    /// Binary frames if true, text frames otherwise.
    pub binary: bool,
    /// How long every connection keeps sending.
    pub duration: Duration,
}

/// Runs the echo load against `url`. A connection that fails to open counts as one loss.
pub async fn run(url: &str, load: EchoLoad) -> Outcome {
    let opened = connect_many(url, load.connections, ClientProfile::Throughput).await;
    let payload = if load.binary {
        Message::binary(vec![0xA5; load.message_size])
    } else {
        Message::text("e".repeat(load.message_size))
    };
    let started = Instant::now();
    let deadline = started + load.duration;
    let tasks: Vec<_> = opened
        .clients
        .into_iter()
        .map(|client| tokio::spawn(ping_pong(client, payload.clone(), deadline)))
        .collect();
    let mut latencies = Latencies::default();
    let mut lost = opened.failed as u64;
    for task in tasks {
        match task.await {
            Ok(connection) => {
                latencies.merge(&connection.latencies);
                lost += connection.lost;
            }
            Err(_) => lost += 1,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    Outcome {
        msgs_per_s: latencies.len() as f64 / elapsed,
        delivered: latencies.len(),
        latencies,
        lost,
    }
}

struct ConnectionResult {
    latencies: Latencies,
    lost: u64,
}

async fn ping_pong(mut client: Client, payload: Message, deadline: Instant) -> ConnectionResult {
    let mut latencies = Latencies::default();
    let expected_len = payload.len();
    while Instant::now() < deadline {
        let sent_at = Instant::now();
        if client.send(payload.clone()).await.is_err() {
            return ConnectionResult { latencies, lost: 1 };
        }
        match tokio::time::timeout(REPLY_TIMEOUT, next_data(&mut client)).await {
            Ok(Some(len)) if len == expected_len => latencies.record(sent_at.elapsed()),
            _ => return ConnectionResult { latencies, lost: 1 },
        }
    }
    let _ = client.close(None).await;
    ConnectionResult { latencies, lost: 0 }
}

/// Length of the next text or binary message, or `None` once the connection ends.
async fn next_data(client: &mut Client) -> Option<usize> {
    while let Some(message) = client.next().await {
        match message.ok()? {
            message @ (Message::Text(_) | Message::Binary(_)) => return Some(message.len()),
            Message::Close(_) => return None,
            _ => {}
        }
    }
    None
}
