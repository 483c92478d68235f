//! The soak run behind `cargo xtask soak`: the chat example (release build) as its own process,
//! thousands of peers from this one ([`crate::load::soak`]), the figures as CSV and PNG.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::load::soak::{self, Report, SoakLoad};
use crate::server::{Launch, RunningServer};
use crate::{build, chart};

/// Peers per room: each message is delivered to `ROOM_SIZE - 1` others.
pub const ROOM_SIZE: usize = 10;
/// How often each peer sends a room message.
pub const SEND_EVERY: Duration = Duration::from_secs(10);
/// How often memory and latency are sampled.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// The longest the ramp may take before the soak gives up.
const RAMP_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Where the chat example takes WebSocket connections.
const CHAT_PATH: &str = "/api/ws";
/// Descriptors this process needs besides one per peer.
const SPARE_FILES: usize = 1024;

/// What to run and where the results go.
#[derive(Debug, Clone)]
pub struct Options {
    /// The workspace root (where `cargo build` runs).
    pub workspace: PathBuf,
    /// Where `soak.csv`, `soak.png` and the server's log go.
    pub out_dir: PathBuf,
    /// Peers, a multiple of [`ROOM_SIZE`].
    pub connections: usize,
    /// Length of the steady phase.
    pub steady: Duration,
}

/// Runs the soak; fails when a delivery was lost, a peer failed or the server died.
pub async fn run(options: &Options) -> anyhow::Result<Report> {
    if options.connections < ROOM_SIZE || options.connections % ROOM_SIZE != 0 {
        bail!("--connections must be a multiple of {ROOM_SIZE}");
    }
    // Each peer is a socket here and one in the server, which inherits the limit (it is
    // per process).
    let wanted = u64::try_from(options.connections + SPARE_FILES)?;
    let allowed = rlimit::increase_nofile_limit(wanted).context("raising the open files limit")?;
    if allowed < wanted {
        bail!(
            "{} peers need {wanted} open files; the hard limit is {allowed}",
            options.connections
        );
    }
    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("creating {}", options.out_dir.display()))?;
    let executables = build::build_release(&options.workspace, &["chat"])?;
    let chat = executables
        .get("chat")
        .context("cargo built no `chat` binary")?;
    let launch = Launch {
        program: chat.clone(),
        args: vec![],
        cwd: None,
        env: vec![],
    };
    let mut server = RunningServer::start(&launch, &options.out_dir.join("chat.log")).await?;
    let url = format!("ws://127.0.0.1:{}{CHAT_PATH}", server.port());
    tracing::info!(
        peers = options.connections,
        %url,
        steady_s = options.steady.as_secs(),
        "soak: starting"
    );
    let load = SoakLoad {
        peers: options.connections,
        room_size: ROOM_SIZE,
        send_every: SEND_EVERY,
        sample_every: SAMPLE_EVERY,
        steady: options.steady,
        ramp_timeout: RAMP_TIMEOUT,
    };
    let rss_mib = || server.rss_bytes().unwrap_or(0) as f64 / (1024.0 * 1024.0);
    let report = soak::run(&url, load, rss_mib).await?;
    server
        .check_running()
        .context("the chat server died during the soak")?;
    drop(server);

    write_outputs(&report, &options.out_dir)?;
    tracing::info!("soak: {}", report.summary());
    tracing::info!("soak: results in {}", options.out_dir.display());
    if report.lost > 0 || report.failed_peers > 0 {
        bail!(
            "{} deliveries lost, {} peers failed",
            report.lost,
            report.failed_peers
        );
    }
    Ok(report)
}

/// `soak.csv` always; `soak.png` when a font is found (the CSV has every figure).
fn write_outputs(report: &Report, dir: &Path) -> anyhow::Result<()> {
    let csv = dir.join("soak.csv");
    std::fs::write(&csv, chart::soak::csv(&report.samples))
        .with_context(|| format!("writing {}", csv.display()))?;
    let drawn = chart::find_font(None)
        .and_then(chart::use_font)
        .and_then(|()| chart::soak::draw(&report.samples, &dir.join("soak.png")));
    if let Err(error) = drawn {
        tracing::warn!("soak: no chart ({error:#}); the CSV has every figure");
    }
    Ok(())
}
