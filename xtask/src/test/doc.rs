//! Doctests, which nextest does not run.

use std::time::Duration;

use anyhow::Result;

use crate::Workspace;

pub fn run(workspace: &Workspace) -> Result<()> {
    workspace
        .cargo()
        .args(["test", "--doc", "--workspace", "--locked"])
        .timeout(Duration::from_secs(15 * 60))
        .run()
}
