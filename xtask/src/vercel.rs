//! The dashboard's stream page on Vercel, in Chromium: part of the `tests`
//! step, where `examples/dashboard/vercel/tests/harness.rs` proves the
//! same streams to a Rust client (`function_stream_resumes_after_limit`).
//! That harness runs inside its test binary; here `xws-vercel-local` runs
//! the same functions as a command, with the same two instances sharing
//! nothing but Redis and the same shortened max duration, and serves the
//! dashboard's `static/` folder as the project's `public/` (the page the
//! plain Worker serves, not a copy).

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::Workspace;
use crate::browser;
use crate::process::{Cmd, wait_for_port};

/// The functions: `api/stream.rs` and `api/tick.rs`.
const FUNCTIONS: [(&str, &str); 2] = [
    ("/api/stream", "dashboard-vercel-stream"),
    ("/api/tick", "dashboard-vercel-tick"),
];

/// Builds the functions and the harness (already built by the tests, so
/// quick), serves them and runs the page.
pub fn stream_page(workspace: &Workspace) -> Result<()> {
    workspace
        .cargo()
        .args(["build", "--locked", "--bins"])
        .args(["-p", "xws-vercel-local", "-p", "dashboard-vercel"])
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
        .arg(workspace.root.join("examples/dashboard/static"));
    for (path, bin) in FUNCTIONS {
        let function = format!("{path}={}", bins.join(bin).display());
        harness = harness.args(["--function", &function]);
    }
    let env = [
        ("XWS_REDIS_URL", redis.as_str()),
        ("XWS_REDIS_CHANNEL", unique.as_str()),
        ("XWS_REDIS_SECRET", &format!("{unique}-secret")),
        ("DASHBOARD_REDIS_PREFIX", unique.as_str()),
        ("XWS_SSE_MAX_DURATION_SECS", "6"),
        ("XWS_SSE_END_BEFORE_SECS", "2"),
        // Long enough for the page test to publish while EventSource waits.
        ("XWS_SSE_RETRY_MS", "1000"),
        ("RUST_LOG", "warn"),
    ]
    .map(|(name, value)| format!("{name}={value}"));
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
            url: &format!("http://{addr}"),
            page: "/stream.html",
            tick: "/api/tick",
        },
    )
    .context("the dashboard's stream page on xws-vercel-local")
}
