//! The tests of every crate: nextest when installed (it runs test binaries in
//! parallel and kills hung ones), else `cargo test`; then the Vercel
//! examples' stream pages in Chromium (`crate::vercel`).

use std::time::Duration;

use anyhow::Result;

use crate::Workspace;
use crate::process::Cmd;

const TIMEOUT: Duration = Duration::from_secs(30 * 60);

pub fn run(workspace: &Workspace) -> Result<()> {
    let has_nextest = workspace.cargo().args(["nextest", "--version"]).succeeds();
    let cmd: Cmd = if has_nextest {
        workspace.cargo().args([
            "nextest",
            "run",
            "--workspace",
            "--locked",
            "--no-fail-fast",
        ])
    } else {
        eprintln!("xtask: cargo-nextest not found; running `cargo test`");
        workspace
            .cargo()
            .args(["test", "--workspace", "--locked", "--no-fail-fast"])
    };
    let tests = cmd.timeout(TIMEOUT).run();
    // The Vercel examples' stream pages in Chromium, beside their harness
    // tests; run even when a test failed, so one run shows both.
    let page = crate::vercel::stream_pages(workspace);
    tests.and(page)
}
