//! `xws-soak`: the soak behind `cargo xtask soak`. Builds examples/chat in release, runs it,
//! connects `--connections` chat peers in rooms of ten, lets each send one message every
//! 10 s for `--minutes`, and writes `soak.csv` and `soak.png` (server memory and delivery
//! latency over time) into `target/xws-soak/`. Fails when a delivery was lost.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use xws_bench::{build, soak};

/// Thousands of chat peers with steady traffic for a bounded time.
#[derive(Debug, Parser)]
struct Cli {
    /// Minutes of traffic once every peer has joined.
    #[arg(long, default_value_t = 2)]
    minutes: u64,
    /// Peers (a multiple of 10).
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// Output directory (default: the target dir's `xws-soak`).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    xws_bench::init_tracing();
    let cli = Cli::parse();
    let workspace = build::workspace_root()?;
    let options = soak::Options {
        out_dir: cli
            .out
            .unwrap_or_else(|| build::target_dir(&workspace).join("xws-soak")),
        workspace,
        connections: cli.connections,
        steady: Duration::from_secs(cli.minutes * 60),
    };
    // Dropping the run on Ctrl-C drops the server guard, which kills the server.
    tokio::select! {
        report = soak::run(&options) => report.map(drop),
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted"),
    }
}
