//! Lints: clippy on every crate and target, warnings denied.

use std::time::Duration;

use anyhow::Result;

use crate::Workspace;

pub fn run(workspace: &Workspace) -> Result<()> {
    workspace
        .cargo()
        .args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ])
        .timeout(Duration::from_secs(30 * 60))
        .run()
}
