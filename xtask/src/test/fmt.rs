//! Formatting: `cargo fmt --all --check`.

use std::time::Duration;

use anyhow::Result;

use crate::Workspace;

pub fn run(workspace: &Workspace) -> Result<()> {
    workspace
        .cargo()
        .args(["fmt", "--all", "--check"])
        .timeout(Duration::from_secs(5 * 60))
        .run()
}
