//! The browser tests: every example page in a real headless Chromium,
//! driven by Playwright (`tests/browser/*.test.mjs`, `node:test`), on every
//! target.
//!
//! - The `browser` step of `cargo xtask test` (Tokio): builds the example
//!   binaries once and runs `chat.test.mjs` (the client's own behaviour:
//!   server restart, the SSE fallback, a dead link, the queue bound) and
//!   `pages.test.mjs`, which start the binaries on free ports.
//! - The `cloudflare` and `aws` steps run `pages.test.mjs` through
//!   [`run_pages`] against the servers they already run (`wrangler dev`, the
//!   API Gateway emulator), so nothing is built twice.
//! - `serverless.test.mjs` ([`run_stream_page`]): the dashboard's SSE page
//!   on each function target, where its streams are already tested: the
//!   plain Worker (the `cloudflare` step), `xws-vercel-local` (the `tests`
//!   step, `crate::vercel`) and the function URL (the `aws` step).
//!
//! Installs what is missing first: Debian's `chromium` and the npm package
//! `playwright-core` (pinned, in the tools cache; Playwright's own browser
//! download is never used). Screenshots land in
//! `target/xws-artifacts/{tokio,cloudflare,aws}/` (the stream pages' in
//! `cloudflare-worker/`, `vercel/`, `aws/`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::Workspace;
use crate::process::Cmd;
use crate::tools;

/// The Playwright driver, pinned; it talks to the system Chromium.
const PLAYWRIGHT: &str = "playwright-core@1.65.1";

/// The examples whose pages the tests drive.
pub const EXAMPLES: [&str; 4] = ["chat", "dashboard", "import-progress", "notifications"];

/// Building the chat from cold takes minutes on two cores.
const BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The browser tests of one target take under a minute; each test has its
/// own timeout too.
const TEST_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The targets `pages.test.mjs` runs against (`XWS_BROWSER_TARGET`).
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// The example binaries, started by the tests.
    Tokio,
    /// The workers under `wrangler dev --local`.
    Cloudflare,
    /// The functions behind the API Gateway emulator.
    Aws,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Tokio => "tokio",
            Target::Cloudflare => "cloudflare",
            Target::Aws => "aws",
        }
    }
}

/// The variable that gives `pages.test.mjs` the URL serving `example`.
pub fn url_var(example: &str) -> String {
    format!(
        "XWS_BROWSER_URL_{}",
        example.to_uppercase().replace('-', "_")
    )
}

/// Installs Chromium and Playwright if missing; returns the npm prefix
/// holding `playwright-core`.
fn install() -> Result<PathBuf> {
    tools::apt_install(&["chromium"])?;
    let bin = tools::npm_install("playwright", &[PLAYWRIGHT])?;
    // `…/npm/playwright/node_modules/.bin` → the prefix holding node_modules.
    let prefix = bin
        .parent()
        .and_then(|modules| modules.parent())
        .context("npm prefix of playwright-core")?;
    Ok(prefix.to_path_buf())
}

/// `node --test` over `files` with Playwright and Chromium set up.
fn node_tests(workspace: &Workspace, files: &[&str]) -> Result<Cmd> {
    let prefix = install()?;
    Ok(Cmd::new("node")
        .args(["--test", "--test-concurrency=1", "--test-timeout=120000"])
        .args(files.iter().map(|file| format!("tests/browser/{file}")))
        .current_dir(&workspace.root)
        .env("XWS_PLAYWRIGHT_DIR", prefix)
        .env("XWS_CHROMIUM", "/usr/bin/chromium")
        .env("XWS_BIN_DIR", workspace.target_dir.join("debug"))
        .env(
            "XWS_ARTIFACTS",
            workspace.root.join("target").join("xws-artifacts"),
        )
        .timeout(TEST_TIMEOUT))
}

/// The `browser` step: builds the example binaries, runs the chat client's
/// tests and every page's against Tokio.
pub fn run(workspace: &Workspace) -> Result<()> {
    install()?;
    workspace
        .cargo()
        .args(["build", "--locked", "--bins"])
        .args(EXAMPLES.iter().flat_map(|name| ["-p", name]))
        .timeout(BUILD_TIMEOUT)
        .run()?;
    node_tests(workspace, &["chat.test.mjs", "pages.test.mjs"])?
        .env("XWS_BROWSER_TARGET", Target::Tokio.name())
        .run()
        .context("browser tests on Tokio (tests/browser)")
}

/// `pages.test.mjs` against `target`, whose servers already run: `urls`
/// maps every example of [`EXAMPLES`] to its base URL; `chat_token` is the
/// token the chat wants, if any.
pub fn run_pages(
    workspace: &Workspace,
    target: Target,
    urls: &[(&str, String)],
    chat_token: Option<&str>,
) -> Result<()> {
    let mut cmd = node_tests(workspace, &["pages.test.mjs"])?
        .env("XWS_BROWSER_TARGET", target.name())
        .env_remove("XWS_BROWSER_CHAT_TOKEN");
    for (example, url) in urls {
        cmd = cmd.env(url_var(example), url);
    }
    if let Some(token) = chat_token {
        cmd = cmd.env("XWS_BROWSER_CHAT_TOKEN", token);
    }
    cmd.run()
        .with_context(|| format!("browser tests on {} (tests/browser)", target.name()))
}

/// Where a function target serves an example's stream page
/// (`examples/{dashboard,import-progress}/static/stream.html`), for
/// `serverless.test.mjs`.
pub struct StreamPage<'a> {
    /// Names the target in the report and the screenshots' folder.
    pub label: &'a str,
    /// The example whose page it is: `dashboard` or `import-progress`.
    pub example: &'a str,
    /// The target's base URL.
    pub url: &'a str,
    /// The page's path (and query) under `url`.
    pub page: &'a str,
    /// The path under `url` a POST to which publishes the next sample (the
    /// dashboard's; the import page starts its imports itself).
    pub tick: &'a str,
}

/// `serverless.test.mjs`: a function target's stream page in Chromium,
/// `EventSource` across the end of a stream.
pub fn run_stream_page(workspace: &Workspace, target: &StreamPage<'_>) -> Result<()> {
    let started = std::time::Instant::now();
    let outcome = node_tests(workspace, &["serverless.test.mjs"])?
        .env("XWS_BROWSER_STREAM_URL", target.url)
        .env("XWS_BROWSER_STREAM_PAGE", target.page)
        .env("XWS_BROWSER_STREAM_TICK", target.tick)
        .env("XWS_BROWSER_STREAM_TARGET", target.label)
        .env("XWS_BROWSER_STREAM_EXAMPLE", target.example)
        .run()
        .with_context(|| {
            format!(
                "the {} stream page on {} (tests/browser/serverless.test.mjs)",
                target.example, target.label
            )
        });
    eprintln!(
        "xtask: the {} stream page on {} {} in {:.1} s",
        target.example,
        target.label,
        if outcome.is_ok() { "passed" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    outcome
}
