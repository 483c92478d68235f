//! `xws-bench-targets`: the load side of `cargo xtask bench-targets`, which starts the chat on
//! workerd and on the local AWS stack and runs this once per part. Each run fills its part
//! of `targets.json` (see `xws_bench::targets`) and rewrites `targets.md`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use xws_bench::load::chat::{self, ChatLoad};
use xws_bench::load::connect::{ClientProfile, connect, join_room};
use xws_bench::load::fanout::{self, FanoutLoad};
use xws_bench::server::process_cpu_time;
use xws_bench::targets::cost::{self, Kind, Prices, PublicationCalls};
use xws_bench::targets::{
    AwsColdStart, AwsFanout, AwsReport, CloudflareColdStart, CloudflareReport, ProcessCpu,
    TargetLoad, TargetsReport,
};

#[derive(Debug, Parser)]
struct Cli {
    /// The report to fill (`targets.json`; `targets.md` is written beside it).
    #[arg(long)]
    out: PathBuf,
    #[command(subcommand)]
    part: Part,
}

#[derive(Debug, Subcommand)]
enum Part {
    /// The chat worker under `wrangler dev`: joins, a chat room, fan-outs.
    Cloudflare {
        /// The chat's WebSocket URL (`ws://127.0.0.1:P/api/ws`).
        #[arg(long)]
        url: String,
        /// A process whose CPU is measured, `NAME=PID` (repeatable).
        #[arg(long = "pid", value_parser = named_pid)]
        pids: Vec<(String, u32)>,
        /// Subscriber counts of the fan-outs.
        #[arg(long, value_delimiter = ',', default_value = "100,1000")]
        fanout: Vec<usize>,
        /// Seconds each load runs.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Start-up measured by xtask: wrangler started → `/` answered, ms.
        #[arg(long)]
        spawn_to_serving_ms: Option<f64>,
        /// Then the first WebSocket handshake, ms.
        #[arg(long)]
        first_websocket_ms: Option<f64>,
        /// A warm WebSocket handshake, ms.
        #[arg(long)]
        warm_websocket_ms: Option<f64>,
    },
    /// The chat's ws function through the emulator: calls per publication and their cost.
    Aws {
        /// The emulator's WebSocket URL (`ws://127.0.0.1:P/api/ws`).
        #[arg(long)]
        url: String,
        /// The emulator (`127.0.0.1:P`), whose `/@xws/stats` counts events and posts.
        #[arg(long)]
        emulator: String,
        /// moto (`127.0.0.1:P`), started with `MOTO_ENABLE_RECORDING=True`.
        #[arg(long)]
        moto: String,
        /// A process whose CPU is measured, `NAME=PID` (repeatable).
        #[arg(long = "pid", value_parser = named_pid)]
        pids: Vec<(String, u32)>,
        /// Subscriber counts.
        #[arg(long, value_delimiter = ',', default_value = "1,10,100")]
        subscribers: Vec<usize>,
        /// Publications per subscriber count, one a second.
        #[arg(long, default_value_t = 10)]
        publications: u32,
        /// The ws function's memory (template.yaml).
        #[arg(long)]
        memory_mb: u32,
    },
    /// Records the ws function's start-up, measured by xtask.
    AwsCold {
        /// A fresh bootstrap's `$connect`, ms.
        #[arg(long)]
        cold_ms: f64,
        /// A warm `$connect`, ms.
        #[arg(long)]
        warm_ms: f64,
        /// The bootstrap.
        #[arg(long)]
        binary: PathBuf,
    },
}

fn named_pid(text: &str) -> anyhow::Result<(String, u32)> {
    let (name, pid) = text.split_once('=').context("expected NAME=PID")?;
    Ok((name.to_owned(), pid.parse()?))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    xws_bench::init_tracing();
    let cli = Cli::parse();
    let mut report = TargetsReport::load(&cli.out)?;
    match cli.part {
        Part::Cloudflare {
            url,
            pids,
            fanout,
            seconds,
            spawn_to_serving_ms,
            first_websocket_ms,
            warm_websocket_ms,
        } => {
            let cold = match (spawn_to_serving_ms, first_websocket_ms, warm_websocket_ms) {
                (Some(spawn_to_serving_ms), Some(first_websocket_ms), Some(warm_websocket_ms)) => {
                    Some(CloudflareColdStart {
                        spawn_to_serving_ms,
                        first_websocket_ms,
                        warm_websocket_ms,
                    })
                }
                _ => None,
            };
            let part = cloudflare(&url, &pids, &fanout, Duration::from_secs(seconds), cold).await?;
            report.cloudflare = Some(part);
        }
        Part::Aws {
            url,
            emulator,
            moto,
            pids,
            subscribers,
            publications,
            memory_mb,
        } => {
            let stack = AwsStack {
                url,
                emulator,
                moto,
                pids,
            };
            let mut part = report.aws.take().unwrap_or_default();
            part.memory_mb = memory_mb;
            part.fanout.clear();
            for &count in &subscribers {
                let row = stack.fanout(count, publications, memory_mb).await?;
                report_progress(&format!("aws fanout {count}"), &row.load);
                part.fanout.push(row);
            }
            report.aws = Some(part);
        }
        Part::AwsCold {
            cold_ms,
            warm_ms,
            binary,
        } => {
            let binary_bytes = std::fs::metadata(&binary)
                .with_context(|| format!("reading {}", binary.display()))?
                .len();
            let part = report.aws.get_or_insert_with(AwsReport::default);
            part.cold = Some(AwsColdStart {
                cold_connect_ms: cold_ms,
                warm_connect_ms: warm_ms,
                binary: binary.display().to_string(),
                binary_bytes,
            });
        }
    }
    report.save(&cli.out)?;
    tracing::info!("wrote {} and its .md", cli.out.display());
    Ok(())
}

fn report_progress(what: &str, load: &TargetLoad) {
    tracing::info!(
        what,
        sent = load.sent,
        delivered = load.delivered,
        lost = load.lost,
        p50_ms = ?load.p50_ms,
        p99_ms = ?load.p99_ms,
        cpu = ?load.cpu_ms,
        "measured"
    );
}

/// CPU time of every process, in order.
fn cpu_now(pids: &[(String, u32)]) -> anyhow::Result<Vec<Duration>> {
    pids.iter().map(|(_, pid)| process_cpu_time(*pid)).collect()
}

/// What each process used since `before`.
fn cpu_since(pids: &[(String, u32)], before: &[Duration]) -> anyhow::Result<Vec<ProcessCpu>> {
    let after = cpu_now(pids)?;
    Ok(pids
        .iter()
        .zip(before.iter().zip(after))
        .map(|((name, _), (before, after))| ProcessCpu {
            process: name.clone(),
            ms: after.saturating_sub(*before).as_secs_f64() * 1000.0,
        })
        .collect())
}

/// Median of timings, ms.
fn median_ms(mut samples: Vec<Duration>) -> Option<f64> {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map(|median| median.as_secs_f64() * 1000.0)
}

/// Joins measured in the warm object, then the chat room, then every fan-out.
async fn cloudflare(
    url: &str,
    pids: &[(String, u32)],
    fanouts: &[usize],
    duration: Duration,
    cold: Option<CloudflareColdStart>,
) -> anyhow::Result<CloudflareReport> {
    let mut part = CloudflareReport {
        cold,
        ..CloudflareReport::default()
    };
    // A member keeps the known room alive while the others join.
    let mut member = connect(url, ClientProfile::Throughput).await?;
    join_room(&mut member, "targets-known").await?;
    let (mut new_rooms, mut known_rooms) = (Vec::new(), Vec::new());
    for round in 0..7 {
        let mut client = connect(url, ClientProfile::Throughput).await?;
        let started = Instant::now();
        join_room(&mut client, &format!("targets-new-{round}")).await?;
        new_rooms.push(started.elapsed());
        let started = Instant::now();
        join_room(&mut client, "targets-known").await?;
        known_rooms.push(started.elapsed());
        let _ = client.close(None).await;
    }
    let _ = member.close(None).await;
    part.new_room_join_ms = median_ms(new_rooms);
    part.known_room_join_ms = median_ms(known_rooms);

    // Every client sends batches of 10 and waits for the others' (as in `cargo xtask bench`).
    let load = ChatLoad {
        clients: 8,
        batch: 10,
        duration,
    };
    let before = cpu_now(pids)?;
    let outcome = chat::run(url, load).await;
    let cpu = cpu_since(pids, &before)?;
    // Each message sent reaches the other seven; what did not arrive is lost.
    let others = (load.clients - 1) as u64;
    let sent = (outcome.delivered + outcome.lost) / others;
    let row = TargetLoad::new(
        format!("chat-room {} clients", load.clients),
        sent,
        &outcome,
        cpu,
    );
    report_progress("cloudflare chat-room", &row);
    part.loads.push(row);

    for &subscribers in fanouts {
        let room = fanout::join(
            url,
            &format!("targets-fanout-{subscribers}"),
            subscribers,
            subscribers,
        )
        .await?;
        if room.subscribers() < subscribers {
            tracing::warn!(
                joined = room.subscribers(),
                subscribers,
                "not every subscriber joined; the rest count as lost"
            );
        }
        // About 5,000 deliveries a second at most: below what workerd sustains here, so the
        // latency is the fan-out's, not a backlog's.
        let rate_per_s = (5_000 / subscribers.max(1)).clamp(1, 20) as u32;
        let load = FanoutLoad {
            subscribers,
            rate_per_s,
            duration,
        };
        let before = cpu_now(pids)?;
        let (outcome, room) = fanout::publish(room, load).await?;
        let cpu = cpu_since(pids, &before)?;
        room.close().await;
        let sent = (duration.as_secs_f64() * f64::from(rate_per_s)).ceil() as u64;
        let row = TargetLoad::new(
            format!("fan-out to {subscribers}, {rate_per_s}/s"),
            sent,
            &outcome,
            cpu,
        );
        report_progress("cloudflare fan-out", &row);
        part.loads.push(row);
    }
    Ok(part)
}

/// The local AWS stack's addresses and the processes measured.
struct AwsStack {
    url: String,
    /// `host:port`.
    emulator: String,
    /// `host:port`.
    moto: String,
    pids: Vec<(String, u32)>,
}

/// The emulator's counters that the chat's fan-out moves.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
struct EmulatorStats {
    messages: u64,
    disconnects: u64,
    posts: u64,
    async_invokes: u64,
}

impl AwsStack {
    /// The body of a `method` request without a body to `path` at `addr`: HTTP/1.0, so the
    /// answer is plain (not chunked) and ends with the connection.
    async fn request(&self, method: &str, addr: &str, path: &str) -> anyhow::Result<Vec<u8>> {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream
            .write_all(
                format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n")
                    .as_bytes(),
            )
            .await?;
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
            .await
            .with_context(|| format!("{method} {addr}{path} timed out"))??;
        let split = answer
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .with_context(|| format!("{method} {addr}{path}: no HTTP answer"))?;
        let head = String::from_utf8_lossy(&answer[..split]);
        let status = head.split_whitespace().nth(1).unwrap_or_default();
        if !status.starts_with('2') {
            bail!("{method} {addr}{path}: {status}");
        }
        Ok(answer[split + 4..].to_vec())
    }

    async fn stats(&self) -> anyhow::Result<EmulatorStats> {
        let body = self.request("GET", &self.emulator, "/@xws/stats").await?;
        Ok(serde_json::from_slice(&body)?)
    }

    /// Starts moto's recording of requests afresh.
    async fn restart_recording(&self) -> anyhow::Result<()> {
        for step in ["stop-recording", "reset-recording", "start-recording"] {
            let path = format!("/moto-api/recorder/{step}");
            self.request("POST", &self.moto, &path).await?;
        }
        Ok(())
    }

    /// DynamoDB requests by operation since the recording started.
    async fn recorded_operations(&self) -> anyhow::Result<BTreeMap<String, f64>> {
        let body = self
            .request("GET", &self.moto, "/moto-api/recorder/download-recording")
            .await?;
        count_dynamodb_operations(&String::from_utf8_lossy(&body))
    }

    async fn fanout(
        &self,
        subscribers: usize,
        publications: u32,
        memory_mb: u32,
    ) -> anyhow::Result<AwsFanout> {
        // The local function runs one event at a time: ten joins in flight keep every one
        // within the client's timeout.
        let room = fanout::join(
            &self.url,
            &format!("targets-aws-{subscribers}"),
            subscribers,
            10,
        )
        .await?;
        let load = FanoutLoad {
            subscribers,
            rate_per_s: 1,
            duration: Duration::from_secs(u64::from(publications)),
        };
        // The last run's clients leave (their `$disconnect`s) before anything is counted.
        let mut stats_before = self.stats().await?;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = self.stats().await?;
            let settled = now.disconnects == stats_before.disconnects;
            stats_before = now;
            if settled {
                break;
            }
        }
        self.restart_recording().await?;
        let stats_before = self.stats().await?;
        let cpu_before = cpu_now(&self.pids)?;
        let (outcome, room) = fanout::publish(room, load).await?;
        let cpu = cpu_since(&self.pids, &cpu_before)?;
        let stats = self.stats().await?;
        let operations = self.recorded_operations().await?;
        // Only now do the connections leave (each a `$disconnect` and its deletes).
        room.close().await;
        let published = f64::from(publications);
        let per = |count: u64| count as f64 / published;
        let mut calls = PublicationCalls {
            inbound_messages: per(stats.messages - stats_before.messages),
            post_to_connection: per(stats.posts - stats_before.posts),
            // The `$default` events the emulator sent the function, and every invocation the
            // function asked for itself.
            lambda_invocations: per((stats.messages - stats_before.messages)
                + (stats.async_invokes - stats_before.async_invokes)),
            ..PublicationCalls::default()
        };
        for (operation, count) in operations {
            let count = count / published;
            match cost::dynamodb_kind(&operation) {
                Some(Kind::Read) => calls.dynamodb_read_requests += count,
                Some(Kind::Write) => calls.dynamodb_write_requests += count,
                None => {}
            }
            calls.dynamodb_operations.insert(operation, count);
        }
        let load = TargetLoad::new(
            format!("fan-out to {subscribers}"),
            u64::from(publications),
            &outcome,
            cpu,
        );
        // The invocation lasts about as long as its last subscriber waits.
        let invocation_ms = load.p50_ms.unwrap_or_default();
        let cost = cost::estimate(
            &calls,
            subscribers,
            invocation_ms,
            memory_mb,
            &Prices::US_EAST_1,
        );
        Ok(AwsFanout {
            subscribers,
            load,
            calls,
            cost,
        })
    }
}

/// Counts DynamoDB operations in moto's recording (one JSON object a line, with the request's
/// headers): the operation is the `X-Amz-Target` header's `DynamoDB_20120810.NAME`. xws-aws
/// makes no batch calls, so every request counts once.
fn count_dynamodb_operations(recording: &str) -> anyhow::Result<BTreeMap<String, f64>> {
    let mut counts = BTreeMap::new();
    for line in recording.lines().filter(|line| !line.trim().is_empty()) {
        let entry: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("a recorded request: {line}"))?;
        let target = entry["headers"]
            .as_object()
            .and_then(|headers| {
                headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("x-amz-target"))
            })
            .and_then(|(_, value)| value.as_str());
        if let Some(operation) = target.and_then(|t| t.strip_prefix("DynamoDB_20120810.")) {
            *counts.entry(operation.to_owned()).or_insert(0.0) += 1.0;
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_counted_from_the_target_header() {
        let recording = [
            r#"{"headers":{"X-Amz-Target":"DynamoDB_20120810.Query"},"method":"POST","body":"e30=","body_encoded":true}"#,
            r#"{"headers":{"x-amz-target":"DynamoDB_20120810.Query"},"method":"POST","body":""}"#,
            r#"{"headers":{"X-Amz-Target":"DynamoDB_20120810.PutItem"},"method":"POST","body":""}"#,
            r#"{"headers":{"Host":"127.0.0.1"},"method":"GET","url":"/moto-api/","body":""}"#,
            "",
        ]
        .join("\n");
        let counts = count_dynamodb_operations(&recording).unwrap();
        assert_eq!(
            counts,
            BTreeMap::from([("PutItem".to_owned(), 1.0), ("Query".to_owned(), 2.0)])
        );
    }

    #[test]
    fn a_named_pid_needs_both_halves() {
        assert_eq!(
            named_pid("ws function=42").unwrap(),
            ("ws function".to_owned(), 42)
        );
        assert!(named_pid("42").is_err());
    }

    #[test]
    fn the_median_of_timings() {
        let ms = Duration::from_millis;
        assert_eq!(median_ms(vec![ms(9), ms(1), ms(5)]), Some(5.0));
        assert_eq!(median_ms(Vec::new()), None);
    }
}
