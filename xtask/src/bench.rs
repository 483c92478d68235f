//! `cargo xtask bench [--quick] [--record] …`: the benchmark suite of
//! `crates/xws-bench` (xws-tokio side by side with tokio-tungstenite,
//! fastwebsockets, crossws on Node and Bun), built in release.

use std::time::Duration;

use anyhow::Result;

use crate::Workspace;

/// A full run with every peer stays well under this.
const BENCH_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Runs the suite; `args` go to the runner (`--quick`, `--record`,
/// `--servers`, `--scenarios`, `--rounds`, `--out`).
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
        .run()
}
