//! Soak mode: thousands of chat peers in small rooms, each sending one timestamped message
//! per period for a bounded time, sampled as it goes (the server's memory, peers joined,
//! delivery latency per sample window).
//!
//! Unlike the other modes, which measure a burst, this one watches a steady load over
//! minutes: the peers ramp up one by one (sampled too), send on a spread-out schedule, and
//! every delivery is timed from the [`Stamp`] it carries.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use super::DRAIN_TIMEOUT;
use super::connect::{CONNECT_CONCURRENCY, ClientProfile, connect, join_room};
use super::stats::Latencies;
use crate::protocol::{ChatRequest, Stamp};

/// What a soak sends.
#[derive(Debug, Clone, Copy)]
pub struct SoakLoad {
    /// Peers in all; a multiple of `room_size`.
    pub peers: usize,
    /// Peers per room: each message is delivered to `room_size - 1` others.
    pub room_size: usize,
    /// How often each peer sends a room message.
    pub send_every: Duration,
    /// How often memory and latency are sampled.
    pub sample_every: Duration,
    /// Length of the steady phase, once every peer has joined.
    pub steady: Duration,
    /// The longest the ramp may take before the soak gives up.
    pub ramp_timeout: Duration,
}

/// One row of the report.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Seconds since the first connection attempt.
    pub elapsed_s: f64,
    /// The server's resident memory.
    pub server_rss_mib: f64,
    /// Peers connected and joined.
    pub connected: usize,
    /// Room messages sent so far.
    pub sent: u64,
    /// Deliveries received so far.
    pub received: u64,
    /// Median latency of the window's deliveries, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Worst delivery of the window.
    pub max_ms: f64,
}

/// What the soak measured.
#[derive(Debug)]
pub struct Report {
    /// One row per sample.
    pub samples: Vec<Sample>,
    /// Peers that failed to connect or were disconnected.
    pub failed_peers: usize,
    /// Room messages sent in the steady phase.
    pub sent: u64,
    /// Deliveries received in the steady phase and the drain after it.
    pub received: u64,
    /// Deliveries expected but not received.
    pub lost: u64,
    /// Server memory once every peer had joined.
    pub rss_after_ramp_mib: f64,
    /// Peak server memory.
    pub rss_peak_mib: f64,
    /// Every steady-phase delivery's latency.
    pub latencies: Latencies,
    /// The load that ran.
    pub load: SoakLoad,
}

impl Report {
    /// One paragraph for the log.
    pub fn summary(&self) -> String {
        let ms = |q: f64| self.latencies.quantile_ms(q).unwrap_or(0.0);
        format!(
            "{} peers ({} failed), {} s steady: {} messages sent, {} of {} deliveries received \
             ({} lost); server RSS {:.0} MiB after ramp, peak {:.0} MiB; latency p50 {:.2} ms, \
             p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms",
            self.load.peers,
            self.failed_peers,
            self.load.steady.as_secs(),
            self.sent,
            self.received,
            self.sent * (self.load.room_size as u64 - 1),
            self.lost,
            self.rss_after_ramp_mib,
            self.rss_peak_mib,
            ms(0.5),
            ms(0.99),
            ms(0.999),
            self.latencies.max_ms().unwrap_or(0.0),
        )
    }
}

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
struct Tally {
    connected: AtomicUsize,
    failed: AtomicUsize,
    sent: AtomicU64,
    received: AtomicU64,
    /// Latencies since the last sample.
    window: Mutex<Latencies>,
    /// Every latency (nothing is sent before the steady phase).
    all: Mutex<Latencies>,
}

impl Tally {
    fn record(&self, micros: u64) {
        self.received.fetch_add(1, Ordering::Relaxed);
        for latencies in [&self.window, &self.all] {
            latencies
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record_micros(micros);
        }
    }
}

/// Runs the soak against the chat endpoint `url` (peers add `?user=soakN`); `server_rss`
/// reads the server's memory in MiB.
pub async fn run(
    url: &str,
    load: SoakLoad,
    server_rss: impl Fn() -> f64,
) -> anyhow::Result<Report> {
    if load.room_size < 2 || load.peers % load.room_size != 0 {
        bail!(
            "the peers ({}) must fill rooms of {} (at least 2)",
            load.peers,
            load.room_size
        );
    }
    let started = Instant::now();
    let tally = Arc::new(Tally::default());
    let (phase, phase_rx) = watch::channel(Phase::Ramp);
    let handshakes = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut tasks = Vec::with_capacity(load.peers);
    for index in 0..load.peers {
        let peer = Peer {
            url: format!("{url}?user=soak{index}"),
            index,
            load,
            started,
        };
        let (tally, phase_rx, handshakes) = (
            Arc::clone(&tally),
            phase_rx.clone(),
            Arc::clone(&handshakes),
        );
        tasks.push(tokio::spawn(async move {
            if let Err(error) = peer.run(&tally, phase_rx, handshakes).await {
                tracing::debug!(index, "soak peer failed: {error:#}");
                tally.failed.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    let mut samples = Vec::new();
    let mut ticker = tokio::time::interval(load.sample_every);
    let take = |samples: &mut Vec<Sample>| samples.push(sample(&tally, started, server_rss()));
    loop {
        ticker.tick().await;
        take(&mut samples);
        let done = tally.connected.load(Ordering::Relaxed) + tally.failed.load(Ordering::Relaxed);
        if done >= load.peers {
            break;
        }
        if started.elapsed() > load.ramp_timeout {
            bail!(
                "only {done} of {} peers connected within {:?}",
                load.peers,
                load.ramp_timeout
            );
        }
    }
    let rss_after_ramp_mib = server_rss();
    tracing::info!(
        joined = tally.connected.load(Ordering::Relaxed),
        seconds = started.elapsed().as_secs_f64(),
        rss_mib = rss_after_ramp_mib,
        "soak: ramp done"
    );
    phase.send_replace(Phase::Send);
    let steady_started = Instant::now();
    while steady_started.elapsed() < load.steady {
        ticker.tick().await;
        take(&mut samples);
    }
    phase.send_replace(Phase::Drain);
    tokio::time::sleep(DRAIN_TIMEOUT).await;
    take(&mut samples);
    phase.send_replace(Phase::Stop);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }

    let sent = tally.sent.load(Ordering::Relaxed);
    let received = tally.received.load(Ordering::Relaxed);
    let latencies = std::mem::take(&mut *tally.all.lock().unwrap_or_else(PoisonError::into_inner));
    Ok(Report {
        rss_peak_mib: samples.iter().map(|s| s.server_rss_mib).fold(0.0, f64::max),
        samples,
        failed_peers: tally.failed.load(Ordering::Relaxed),
        sent,
        received,
        lost: (sent * (load.room_size as u64 - 1)).saturating_sub(received),
        rss_after_ramp_mib,
        latencies,
        load,
    })
}

fn sample(tally: &Tally, started: Instant, server_rss_mib: f64) -> Sample {
    let window = std::mem::take(&mut *tally.window.lock().unwrap_or_else(PoisonError::into_inner));
    let ms = |q: f64| window.quantile_ms(q).unwrap_or(0.0);
    Sample {
        elapsed_s: started.elapsed().as_secs_f64(),
        server_rss_mib,
        connected: tally.connected.load(Ordering::Relaxed),
        sent: tally.sent.load(Ordering::Relaxed),
        received: tally.received.load(Ordering::Relaxed),
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
        max_ms: window.max_ms().unwrap_or(0.0),
    }
}

/// One chat peer of the soak.
struct Peer {
    url: String,
    index: usize,
    load: SoakLoad,
    started: Instant,
}

impl Peer {
    /// Joins room `index / room_size`, then sends a stamped message every `send_every`
    /// while the phase is `Send`, timing every delivery from another peer.
    async fn run(
        self,
        tally: &Tally,
        mut phase: watch::Receiver<Phase>,
        handshakes: Arc<Semaphore>,
    ) -> anyhow::Result<()> {
        let room = format!("soak-{}", self.index / self.load.room_size);
        let permit = handshakes.acquire_owned().await?;
        let mut client = connect(&self.url, ClientProfile::Many).await?;
        join_room(&mut client, &room).await?;
        drop(permit);
        tally.connected.fetch_add(1, Ordering::Relaxed);
        let (mut write, mut read) = client.split();

        // Spread the peers' sends over the period (7,919 is prime).
        let period = self.load.send_every;
        let offset =
            Duration::from_millis((self.index as u64 * 7_919) % period.as_millis().max(1) as u64);
        let mut ticker = tokio::time::interval_at(Instant::now() + offset, period);
        let mut current = *phase.borrow();
        let mut seq = 0_u32;
        let own = u32::try_from(self.index)?;
        loop {
            tokio::select! {
                changed = phase.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    current = *phase.borrow();
                    if current == Phase::Send {
                        // Ticks due while joining would all fire at once.
                        ticker = tokio::time::interval_at(Instant::now() + offset, period);
                    }
                    if current == Phase::Stop {
                        let _ = write.close().await;
                        return Ok(());
                    }
                }
                _ = ticker.tick(), if current == Phase::Send => {
                    let stamp = Stamp { sender: own, seq, sent_us: self.micros() };
                    let request = ChatRequest::SendToRoom { room_id: room.clone(), text: stamp.encode() };
                    write.send(Message::text(serde_json::to_string(&request)?)).await?;
                    seq += 1;
                    tally.sent.fetch_add(1, Ordering::Relaxed);
                }
                message = read.next() => {
                    match message.context("the server closed the connection")?? {
                        Message::Close(frame) => bail!("the server closed the connection: {frame:?}"),
                        Message::Text(text) => {
                            if let Some(stamp) = Stamp::find(&text).filter(|s| s.sender != own) {
                                tally.record(self.micros().saturating_sub(stamp.sent_us));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    fn micros(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}
