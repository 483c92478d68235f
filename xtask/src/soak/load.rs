//! The soak's clients: connect, join a room, send steadily, time every
//! delivery.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::{ROOM_SIZE, SAMPLE_EVERY, SEND_EVERY, Sample};

/// Handshakes in flight at once (the server's backlog is larger).
const CONNECTING_AT_ONCE: usize = 256;
/// The longest the ramp may take before the soak gives up.
const RAMP_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Time for the last messages to arrive after sending stops.
const DRAIN: Duration = Duration::from_secs(5);

/// What every peer is told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Ramp,
    Send,
    Drain,
    Stop,
}

/// Counters shared by every peer.
#[derive(Default)]
struct Stats {
    connected: AtomicUsize,
    failed: AtomicUsize,
    sent: AtomicU64,
    received: AtomicU64,
    /// Latencies (µs) since the last sample.
    window: Mutex<Vec<u64>>,
    /// Every latency (µs).
    all: Mutex<Vec<u64>>,
}

/// What the soak measured.
pub struct Report {
    /// One row per sample.
    pub samples: Vec<Sample>,
    /// Peers that failed to connect or were disconnected.
    pub failed_peers: usize,
    /// Room messages sent in the steady phase.
    pub sent: u64,
    /// Deliveries received.
    pub received: u64,
    /// Deliveries expected but not received.
    pub lost: u64,
    /// Server memory once every peer had joined, at its peak and at the end.
    pub rss_after_ramp_mib: f64,
    /// Peak server memory.
    pub rss_peak_mib: f64,
    /// Latency percentiles over every delivery (p50, p99, p99.9, max), ms.
    pub latency_ms: [f64; 4],
    /// Peers, and the length of the steady phase.
    pub peers: usize,
    /// Length of the steady phase.
    pub steady: Duration,
}

impl Report {
    /// One paragraph for the log.
    pub fn summary(&self) -> String {
        let [p50, p99, p999, max] = self.latency_ms;
        format!(
            "{} peers ({} failed), {} s steady: {} messages sent, {} of {} deliveries received \
             ({} lost); server RSS {:.0} MiB after ramp, peak {:.0} MiB; latency p50 {p50:.2} ms, \
             p99 {p99:.2} ms, p99.9 {p999:.2} ms, max {max:.2} ms",
            self.peers,
            self.failed_peers,
            self.steady.as_secs(),
            self.sent,
            self.received,
            self.sent * (ROOM_SIZE as u64 - 1),
            self.lost,
            self.rss_after_ramp_mib,
            self.rss_peak_mib,
        )
    }
}

/// Connects `peers`, lets them talk for `steady`, and samples as it goes;
/// `server_rss` reads the server's memory in MiB.
pub async fn run(
    addr: SocketAddr,
    peers: usize,
    steady: Duration,
    server_rss: impl Fn() -> f64,
) -> Result<Report> {
    let started = Instant::now();
    let stats = Arc::new(Stats::default());
    let (phase, phase_rx) = watch::channel(Phase::Ramp);
    let handshakes = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
    let mut tasks = Vec::with_capacity(peers);
    for index in 0..peers {
        let (stats, phase_rx, handshakes) = (
            Arc::clone(&stats),
            phase_rx.clone(),
            Arc::clone(&handshakes),
        );
        tasks.push(tokio::spawn(async move {
            if let Err(error) = peer(addr, index, &stats, phase_rx, handshakes, started).await {
                tracing_free_log(index, &error);
                stats.failed.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let mut samples = Vec::new();
    let mut ticker = tokio::time::interval(SAMPLE_EVERY);
    let take = |samples: &mut Vec<Sample>| samples.push(sample(&stats, started, server_rss()));
    loop {
        ticker.tick().await;
        take(&mut samples);
        let done = stats.connected.load(Ordering::Relaxed) + stats.failed.load(Ordering::Relaxed);
        if done >= peers {
            break;
        }
        if started.elapsed() > RAMP_TIMEOUT {
            bail!("only {done} of {peers} peers connected within {RAMP_TIMEOUT:?}");
        }
    }
    let rss_after_ramp_mib = server_rss();
    eprintln!(
        "xtask: soak: {} peers joined in {:.1} s; server RSS {rss_after_ramp_mib:.0} MiB",
        stats.connected.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    stats
        .all
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clear();
    phase.send_replace(Phase::Send);
    let steady_started = Instant::now();
    while steady_started.elapsed() < steady {
        ticker.tick().await;
        take(&mut samples);
    }
    phase.send_replace(Phase::Drain);
    tokio::time::sleep(DRAIN).await;
    take(&mut samples);
    phase.send_replace(Phase::Stop);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }

    let sent = stats.sent.load(Ordering::Relaxed);
    let received = stats.received.load(Ordering::Relaxed);
    let mut all = std::mem::take(&mut *stats.all.lock().unwrap_or_else(PoisonError::into_inner));
    all.sort_unstable();
    Ok(Report {
        rss_peak_mib: samples.iter().map(|s| s.server_rss_mib).fold(0.0, f64::max),
        samples,
        failed_peers: stats.failed.load(Ordering::Relaxed),
        sent,
        received,
        lost: (sent * (ROOM_SIZE as u64 - 1)).saturating_sub(received),
        rss_after_ramp_mib,
        latency_ms: [0.5, 0.99, 0.999, 1.0].map(|q| percentile_ms(&all, q)),
        peers,
        steady,
    })
}

fn tracing_free_log(index: usize, error: &anyhow::Error) {
    // Only the first failures: thousands of lines would hide the report.
    static LOGGED: AtomicUsize = AtomicUsize::new(0);
    if LOGGED.fetch_add(1, Ordering::Relaxed) < 5 {
        eprintln!("xtask: soak: peer {index} failed: {error:#}");
    }
}

fn sample(stats: &Stats, started: Instant, server_rss_mib: f64) -> Sample {
    let mut window =
        std::mem::take(&mut *stats.window.lock().unwrap_or_else(PoisonError::into_inner));
    window.sort_unstable();
    Sample {
        elapsed_s: started.elapsed().as_secs_f64(),
        server_rss_mib,
        connected: stats.connected.load(Ordering::Relaxed),
        sent: stats.sent.load(Ordering::Relaxed),
        received: stats.received.load(Ordering::Relaxed),
        p50_ms: percentile_ms(&window, 0.5),
        p99_ms: percentile_ms(&window, 0.99),
        max_ms: percentile_ms(&window, 1.0),
    }
}

/// The `q` quantile of sorted microseconds, in milliseconds.
fn percentile_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((sorted_us.len() - 1) as f64 * q).round() as usize;
    sorted_us[rank] as f64 / 1000.0
}

/// One chat peer: join room `index / ROOM_SIZE`, then send a timestamped
/// message every [`SEND_EVERY`] while the phase is `Send`.
async fn peer(
    addr: SocketAddr,
    index: usize,
    stats: &Stats,
    mut phase: watch::Receiver<Phase>,
    handshakes: Arc<Semaphore>,
    started: Instant,
) -> Result<()> {
    let permit = handshakes.acquire_owned().await?;
    let url = format!("ws://{addr}/api/ws?user=soak{index}");
    let (ws, _) = tokio::time::timeout(
        Duration::from_secs(60),
        tokio_tungstenite::connect_async(url),
    )
    .await
    .context("handshake timed out")??;
    let (mut write, mut read) = ws.split();
    let room = index / ROOM_SIZE;
    write
        .send(Message::text(
            json!({"type": "join-room", "roomId": room}).to_string(),
        ))
        .await?;
    loop {
        let message = read.next().await.context("closed before joining")??;
        if kind(&message).as_deref() == Some("joined") {
            break;
        }
    }
    drop(permit);
    stats.connected.fetch_add(1, Ordering::Relaxed);

    // Spread the peers' sends over the period.
    let offset = Duration::from_millis((index as u64 * 7_919) % SEND_EVERY.as_millis() as u64);
    let mut ticker = tokio::time::interval_at(Instant::now() + offset, SEND_EVERY);
    let mut current = *phase.borrow();
    loop {
        tokio::select! {
            changed = phase.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                current = *phase.borrow();
                if current == Phase::Send {
                    // Ticks due while joining would all fire at once.
                    ticker = tokio::time::interval_at(Instant::now() + offset, SEND_EVERY);
                }
                if current == Phase::Stop {
                    let _ = write.close().await;
                    return Ok(());
                }
            }
            _ = ticker.tick(), if current == Phase::Send => {
                let sent_us = started.elapsed().as_micros().to_string();
                let message = json!({"type": "send-to-room", "roomId": room, "text": sent_us});
                write.send(Message::text(message.to_string())).await?;
                stats.sent.fetch_add(1, Ordering::Relaxed);
            }
            message = read.next() => {
                let message = match message {
                    Some(Ok(message)) => message,
                    Some(Err(error)) => return Err(error.into()),
                    None => bail!("the server closed the connection"),
                };
                if let Message::Close(frame) = &message {
                    bail!("the server closed the connection: {frame:?}");
                }
                if let Some(sent_us) = delivered_at(&message) {
                    let latency = (started.elapsed().as_micros() as u64).saturating_sub(sent_us);
                    stats.received.fetch_add(1, Ordering::Relaxed);
                    stats.window.lock().unwrap_or_else(PoisonError::into_inner).push(latency);
                    stats.all.lock().unwrap_or_else(PoisonError::into_inner).push(latency);
                }
            }
        }
    }
}

fn parse(message: &Message) -> Option<Value> {
    match message {
        Message::Text(text) => serde_json::from_str(text.as_str()).ok(),
        _ => None,
    }
}

fn kind(message: &Message) -> Option<String> {
    parse(message)?.get("type")?.as_str().map(str::to_owned)
}

/// The send time a room message carries, if `message` is one.
fn delivered_at(message: &Message) -> Option<u64> {
    let value = parse(message)?;
    if value.get("type")?.as_str()? != "message" {
        return None;
    }
    value.get("text")?.as_str()?.parse().ok()
}
