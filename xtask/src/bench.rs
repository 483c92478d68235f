//! `cargo xtask bench [--quick] [--record] …`: the benchmark suite of
//! `crates/xws-bench` (xws-tokio side by side with tokio-tungstenite,
//! fastwebsockets, crossws on Node and Bun), built in release, then the
//! cross-node fan-out of the chat over Redis against a single node
//! (`examples/chat/benches/cross_node_fanout.rs`, a few seconds).

use std::time::Duration;

use anyhow::Result;

use crate::Workspace;

/// A full run with every peer stays well under this.
const BENCH_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Runs the suite; `args` go to the runner (`--quick`, `--record`,
/// `--servers`, `--scenarios`, `--rounds`, `--out`, `--no-pin`,
/// `--connections N`).
pub fn run(workspace: &Workspace, args: &[String]) -> Result<()> {
    workspace
        .cargo()
        .args([
            "run",
            "--release",
            "--package",
            "xws-bench",
            "--bin",
            "xws-bench",
            "--",
        ])
        .args(args)
        .timeout(BENCH_TIMEOUT)
        .run()?;
    // `--connections N` is the idle-hold test alone (xws-bench's idle_hold).
    if args.iter().any(|arg| arg.starts_with("--connections")) {
        return Ok(());
    }
    workspace
        .cargo()
        .args(["bench", "--package", "chat", "--bench", "cross_node_fanout"])
        .timeout(CROSS_NODE_TIMEOUT)
        .run()
}

/// The cross-node benchmark takes seconds; building it, a minute or two.
const CROSS_NODE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
