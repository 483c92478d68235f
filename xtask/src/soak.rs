//! `cargo xtask soak`: thousands of chat peers with steady traffic for a bounded time,
//! recording the server's memory and the delivery latency over time.
//!
//! The load generator, the chat server's process and the chart live in `crates/xws-bench`
//! next to the benchmark's (bin `xws-soak`, [`xws_bench::soak`]); this step builds it in release
//! and runs it. Results land in `$CARGO_TARGET_DIR/xws-soak/`: `soak.csv` (one row per sample),
//! `soak.png` (memory and latency over time) and `chat.log`.

use std::time::Duration;

use anyhow::Result;

use crate::Workspace;
use crate::process::Cmd;

/// The ramp (at most 10 min), the chat's release build and the drain, besides the steady
/// minutes.
const SLACK: Duration = Duration::from_secs(30 * 60);

/// Runs the soak: `connections` peers, steady traffic for `minutes` once they are all
/// connected.
pub fn run(workspace: &Workspace, minutes: u64, connections: usize) -> Result<()> {
    workspace
        .cargo()
        .args([
            "build",
            "--release",
            "--package",
            "xws-bench",
            "--bin",
            "xws-soak",
        ])
        .timeout(BUILD_TIMEOUT)
        .run()?;
    Cmd::new(workspace.target_dir.join("release").join("xws-soak"))
        .current_dir(&workspace.root)
        .arg(format!("--minutes={minutes}"))
        .arg(format!("--connections={connections}"))
        .timeout(Duration::from_secs(minutes * 60) + SLACK)
        .run()
}

/// A cold release build of the load generator on two shared cores.
const BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);
