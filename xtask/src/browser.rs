//! `cargo xtask test` step "browser": the chat page in a real headless
//! Chromium, driven by Playwright (`tests/browser/*.test.mjs`, `node:test`).
//!
//! Installs what is missing first: Debian's `chromium` and the npm package
//! `playwright-core` (pinned, in the tools cache; Playwright's own browser
//! download is never used). Builds the chat binary once, then runs the
//! Node tests, which start it on free ports. The screenshot of the chat
//! page lands in `target/xws-artifacts/chat.png`.

use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::Workspace;
use crate::process::Cmd;
use crate::tools;

/// The Playwright driver, pinned; it talks to the system Chromium.
const PLAYWRIGHT: &str = "playwright-core@1.65.1";

/// Building the chat from cold takes minutes on two cores.
const BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The browser tests take about 30 s; each test has its own timeout too.
const TEST_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Installs Chromium and Playwright if missing, builds the chat, runs the
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
        .args(["build", "--locked", "-p", "chat", "--bin", "chat"])
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
        .env(
            "XWS_CHAT_BIN",
            workspace.target_dir.join("debug").join("chat"),
        )
        .env(
            "XWS_ARTIFACTS",
            workspace.root.join("target").join("xws-artifacts"),
        )
        .timeout(TEST_TIMEOUT)
        .run()
        .context("browser tests (tests/browser)")
}
