//! `cargo xtask soak`: 10,000 chat peers with steady traffic for a bounded
//! time, recording the server's memory and the delivery latency over time.
//!
//! The chat (`examples/chat`, release build) runs as its own process; this
//! process plays every client. Peers join rooms of [`ROOM_SIZE`], each sends
//! one room message every [`SEND_EVERY`], and every delivery's latency is
//! measured from the timestamp it carries. Results land in
//! `$CARGO_TARGET_DIR/xws-soak/`: `soak.csv` (one row per sample) and
//! `soak.png` (memory and latency over time).

mod chart;
mod load;

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::Workspace;
use crate::process::{Cmd, wait_for_port};

/// Peers per room: each message is delivered to `ROOM_SIZE - 1` others.
pub const ROOM_SIZE: usize = 10;
/// How often each peer sends a room message.
pub const SEND_EVERY: Duration = Duration::from_secs(10);
/// How often memory and latency are sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);

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
    /// Latency percentiles over the sample's deliveries, in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Worst delivery.
    pub max_ms: f64,
}

/// Runs the soak: `connections` peers, steady traffic for `minutes` once
/// they are all connected.
pub fn run(workspace: &Workspace, minutes: u64, connections: usize) -> Result<()> {
    if connections < ROOM_SIZE || !connections.is_multiple_of(ROOM_SIZE) {
        bail!("--connections must be a multiple of {ROOM_SIZE}");
    }
    // Each peer is a socket here and one in the server, which inherits the
    // limit (it is per process).
    let wanted = u64::try_from(connections + 1024)?;
    let allowed = rlimit::increase_nofile_limit(wanted).context("raising the open files limit")?;
    if allowed < wanted {
        bail!("{connections} peers need {wanted} open files; the hard limit is {allowed}");
    }
    workspace
        .cargo()
        .args(["build", "--release", "-p", "chat"])
        .run()?;
    let chat = workspace.target_dir.join("release").join("chat");
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut server = Cmd::new(&chat)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .spawn()?;
    wait_for_port(addr, Duration::from_secs(30), "examples/chat")?;
    let pid = child_pid(&chat).context("finding the chat server's process")?;

    let duration = Duration::from_secs(minutes * 60);
    eprintln!("xtask: soak: {connections} peers on {addr} for {minutes} min");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(load::run(addr, connections, duration, || rss_mib(pid)))?;
    server
        .ensure_running()
        .context("the chat server died during the soak")?;
    drop(server);

    let dir = workspace.target_dir.join("xws-soak");
    fs::create_dir_all(&dir)?;
    chart::write_csv(&dir.join("soak.csv"), &report.samples)?;
    match chart::draw(&dir.join("soak.png"), &report.samples) {
        Ok(()) => {}
        Err(error) => eprintln!("xtask: soak: no chart ({error:#}); the CSV has every figure"),
    }
    eprintln!("xtask: soak: {}", report.summary());
    eprintln!("xtask: soak: results in {}", dir.display());
    if report.lost > 0 || report.failed_peers > 0 {
        bail!(
            "{} deliveries lost, {} peers failed",
            report.lost,
            report.failed_peers
        );
    }
    Ok(())
}

/// The pid of our child running `exe` (the guard does not expose it).
fn child_pid(exe: &Path) -> Option<u32> {
    let parent = std::process::id().to_string();
    let exe = fs::canonicalize(exe).ok()?;
    fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
        // `pid (comm) state ppid …`; comm may hold spaces, so cut after ')'.
        let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
        let runs = fs::read_link(entry.path().join("exe")).ok()? == exe;
        (ppid == parent && runs).then_some(pid)
    })
}

/// A process's resident memory in MiB (0 when it is gone).
fn rss_mib(pid: u32) -> f64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}
