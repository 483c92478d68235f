//! `xws-bench`: the benchmark runner behind `cargo xtask bench`.
//!
//! Builds the Rust servers, installs the JavaScript peers from npm (pinned, outside the
//! clone), runs every scenario against each server in turn and writes `results.json`,
//! `results.md` and `ratios.png` into `target/xws-bench/`.

use std::path::PathBuf;

use anyhow::{anyhow, bail};
use clap::Parser;
use xws_bench::placement::Placement;
use xws_bench::runner::{self, Options, SERVERS};
use xws_bench::scenario::{Plan, Scenario};
use xws_bench::{build, idle_hold, peers};

/// Side-by-side WebSocket benchmarks: xws-tokio against its fastest peers.
#[derive(Debug, Parser)]
struct Cli {
    /// Short runs, the benchmark of record (under five minutes).
    #[arg(long)]
    quick: bool,
    /// Run only these servers (comma separated).
    #[arg(long, value_delimiter = ',')]
    servers: Vec<String>,
    /// Run only these scenarios (comma separated).
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Number of passes over the servers (defaults: 2 quick, 4 full).
    #[arg(long)]
    rounds: Option<usize>,
    /// Output directory (default: the target dir's `xws-bench`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the report to BENCHMARKS.md at the workspace root (the table of record).
    #[arg(long)]
    record: bool,
    /// Let the server and the load generator share every CPU instead of pinning them to
    /// separate ones (the default on two or more CPUs).
    #[arg(long)]
    no_pin: bool,
    /// Instead of the scenarios: hold this many idle connections against each server's echo
    /// endpoint (`--servers`, default xws-tokio) and report RSS and kernel socket memory per
    /// connection; raises RLIMIT_NOFILE (root for more than the hard limit).
    #[arg(long)]
    connections: Option<usize>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    xws_bench::init_tracing();
    let arguments = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let cli = Cli::parse();
    let workspace = build::workspace_root()?;
    let mut plan = if cli.quick {
        Plan::quick()
    } else {
        Plan::full()
    };
    if let Some(rounds) = cli.rounds {
        plan.rounds = rounds.max(1);
    }
    let scenarios = cli
        .scenarios
        .iter()
        .map(|name| Scenario::from_name(name).ok_or_else(|| anyhow!("unknown scenario `{name}`")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(unknown) = cli
        .servers
        .iter()
        .find(|name| !SERVERS.contains(&name.as_str()))
    {
        bail!("unknown server `{unknown}`; known: {}", SERVERS.join(", "));
    }
    let out_dir = cli
        .out
        .unwrap_or_else(|| build::target_dir(&workspace).join("xws-bench"));
    let placement = Placement::choose(!cli.no_pin);
    if let Some(connections) = cli.connections {
        let servers = if cli.servers.is_empty() {
            vec![SERVERS[0].to_owned()]
        } else {
            cli.servers
        };
        let options = idle_hold::Options {
            workspace,
            out_dir,
            peers_dir: peers::default_dir(),
            connections,
            servers,
            placement,
        };
        let report = tokio::select! {
            report = idle_hold::run(&options) => report?,
            _ = tokio::signal::ctrl_c() => bail!("interrupted"),
        };
        #[allow(clippy::print_stdout, reason = "the table is this command's output")]
        {
            println!("{}", report.markdown());
        }
        return Ok(());
    }
    let options = Options {
        out_dir,
        workspace,
        peers_dir: peers::default_dir(),
        plan,
        servers: cli.servers,
        scenarios,
        arguments,
        record: cli.record,
        placement,
    };
    // Dropping the run on Ctrl-C drops every running server guard, which kills the server.
    let results = tokio::select! {
        results = runner::run(&options) => results?,
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    };
    let scenarios = if options.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        options.scenarios
    };
    let table = results.markdown(&scenarios);
    tracing::info!("results in {}", options.out_dir.display());
    #[allow(clippy::print_stdout, reason = "the table is this command's output")]
    {
        println!("{table}");
    }
    Ok(())
}
