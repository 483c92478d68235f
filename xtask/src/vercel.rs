//! The examples' stream pages on Vercel, in Chromium: part of the `tests`
//! step, where each example's `vercel/tests/harness.rs` proves the same
//! streams to a Rust client (the dashboard's
//! `function_stream_resumes_after_limit`, import progress's
//! `stream_ends_before_the_limit_and_resumes_every_step_once`). Those
//! harnesses run inside their test binaries; here `xws-vercel-local` runs
//! the same functions as a command, with the same two instances sharing
//! nothing but Redis and the same shortened max duration, and serves the
//! example's `static/` folder as the project's `public/` (the pages the
//! other targets serve, not copies).

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::Workspace;
use crate::browser;
use crate::process::{Cmd, wait_for_port};

/// An example's Vercel build and its stream page.
struct VercelExample {
    /// The example, as `serverless.test.mjs` names it.
    name: &'static str,
    /// Its Vercel package.
    package: &'static str,
    /// Its functions: path and binary.
    functions: &'static [(&'static str, &'static str)],
    /// The folder served as `public/`.
    public: &'static str,
    /// The page's path, and the path that publishes (the dashboard's).
    page: &'static str,
    tick: &'static str,
    /// Variables of its own.
    env: &'static [(&'static str, &'static str)],
}

const EXAMPLES: [VercelExample; 2] = [
    VercelExample {
        name: "dashboard",
        package: "dashboard-vercel",
        functions: &[
            ("/api/stream", "dashboard-vercel-stream"),
            ("/api/tick", "dashboard-vercel-tick"),
        ],
        public: "examples/dashboard/static",
        page: "/stream.html",
        tick: "/api/tick",
        env: &[],
    },
    VercelExample {
        name: "import-progress",
        package: "import-progress-vercel",
        functions: &[
            ("/api/stream", "import-progress-vercel-stream"),
            ("/api/start-import", "import-progress-vercel-start-import"),
            ("/api/login", "import-progress-vercel-login"),
        ],
        public: "examples/import-progress/static",
        page: "/stream.html",
        tick: "",
        // As its harness.rs: an import of 21 batches outlasts a 4 s stream.
        env: &[("IMPORT_STEP_MS", "200")],
    },
];

/// Every example's stream page; all run even when one fails.
pub fn stream_pages(workspace: &Workspace) -> Result<()> {
    EXAMPLES
        .iter()
        .map(|example| stream_page(workspace, example))
        .fold(Ok(()), Result::and)
}

/// Builds the functions and the harness (already built by the tests, so
/// quick), serves them and runs the page.
fn stream_page(workspace: &Workspace, example: &VercelExample) -> Result<()> {
    workspace
        .cargo()
        .args(["build", "--locked", "--bins"])
        .args(["-p", "xws-vercel-local", "-p", example.package])
        .timeout(Duration::from_secs(20 * 60))
        .run()?;
    let bins = workspace.target_dir.join("debug");
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    // One Redis channel, history and latest sample per run.
    let unique = format!(
        "xws-vercel-page-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    let redis =
        std::env::var("XWS_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mut harness = Cmd::new(bins.join("xws-vercel-local"))
        .args(["--port", &port.to_string(), "--instances", "2"])
        // As harness.rs: a 6 s max duration, streams ending 2 s before it.
        .args(["--max-duration", "6"])
        .arg("--public")
        .arg(workspace.root.join(example.public));
    for (path, bin) in example.functions {
        let function = format!("{path}={}", bins.join(bin).display());
        harness = harness.args(["--function", &function]);
    }
    let env = [
        ("XWS_REDIS_URL", redis.as_str()),
        ("XWS_REDIS_CHANNEL", unique.as_str()),
        ("XWS_REDIS_SECRET", &format!("{unique}-secret")),
        ("DASHBOARD_REDIS_PREFIX", unique.as_str()),
        ("IMPORT_REDIS_PREFIX", unique.as_str()),
        ("XWS_SSE_MAX_DURATION_SECS", "6"),
        ("XWS_SSE_END_BEFORE_SECS", "2"),
        // Long enough for the page test to publish while EventSource waits.
        ("XWS_SSE_RETRY_MS", "1000"),
        ("RUST_LOG", "warn"),
    ]
    .into_iter()
    .chain(example.env.iter().copied())
    .map(|(name, value)| format!("{name}={value}"))
    .collect::<Vec<_>>();
    for pair in &env {
        harness = harness.args(["--env", pair]);
    }
    let mut harness = harness.spawn()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for_port(addr, Duration::from_secs(30), "xws-vercel-local")?;
    harness.ensure_running()?;
    browser::run_stream_page(
        workspace,
        &browser::StreamPage {
            label: "vercel",
            example: example.name,
            url: &format!("http://{addr}"),
            page: example.page,
            tick: example.tick,
        },
    )
    .with_context(|| format!("the {}'s stream page on xws-vercel-local", example.name))
}
