//! `cargo xtask test` step "browser": the chat page in a real headless
//! Chromium, driven by Playwright (`tests/browser/*.test.mjs`, `node:test`).
//!
//! Installs what is missing first: Debian's `chromium` and the npm package
//! `playwright-core` (pinned, in the tools cache; Playwright's own browser
//! download is never used). Builds the example binaries once, then runs
//! the Node tests, which start them on free ports. Screenshots of every
//! page land in `target/xws-artifacts/` (chat, dashboard, import-progress,
//! notifications).

use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::Workspace;
use crate::process::Cmd;
use crate::tools;

/// The Playwright driver, pinned; it talks to the system Chromium.
const PLAYWRIGHT: &str = "playwright-core@1.65.1";

/// The examples whose pages the tests drive.
const EXAMPLES: [&str; 4] = ["chat", "dashboard", "import-progress", "notifications"];

/// Building the chat from cold takes minutes on two cores.
const BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The browser tests take about 30 s; each test has its own timeout too.
const TEST_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Installs Chromium and Playwright if missing, builds the examples, runs the
/// browser tests.
pub fn run(workspace: &Workspace) -> Result<()> {
    tools::apt_install(&["chromium"])?;
    let bin = tools::npm_install("playwright", &[PLAYWRIGHT])?;
    // `…/npm/playwright/node_modules/.bin` → the prefix holding node_modules.
    let prefix = bin
        .parent()
        .and_then(|modules| modules.parent())
        .context("npm prefix of playwright-core")?;
    workspace
        .cargo()
        .args(["build", "--locked", "--bins"])
        .args(EXAMPLES.iter().flat_map(|name| ["-p", name]))
        .timeout(BUILD_TIMEOUT)
        .run()?;
    Cmd::new("node")
        .args([
            "--test",
            "--test-concurrency=1",
            "--test-timeout=120000",
            "tests/browser/",
        ])
        .current_dir(&workspace.root)
        .env("XWS_PLAYWRIGHT_DIR", prefix)
        .env("XWS_CHROMIUM", "/usr/bin/chromium")
        .env("XWS_BIN_DIR", workspace.target_dir.join("debug"))
        .env(
            "XWS_ARTIFACTS",
            workspace.root.join("target").join("xws-artifacts"),
        )
        .timeout(TEST_TIMEOUT)
        .run()
        .context("browser tests (tests/browser)")
}
