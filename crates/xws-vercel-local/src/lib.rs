//! # xws-vercel-local: Vercel Rust functions on your machine
//!
//! `vercel dev` needs a Vercel account: it links the directory to a project
//! before it serves anything, and without a login stops with `Error: No
//! existing credentials found. Please run \`vercel login\` or pass "--token"`
//! (Vercel CLI 59.25.4, tried offline on 2026-12-07). This crate runs the same
//! function binaries the way Vercel's function runtime does, through the
//! bridge protocol `vercel_runtime` 2.x speaks ([`bridge`]), so an xws-vercel
//! function is tested as it will run, offline:
//!
//! - each function (`--function /api/stream=BINARY`) runs as `--instances N`
//!   separate processes, each started with `VERCEL_IPC_PATH` (its own Unix
//!   socket) and reporting `server-started` with its port before it gets a
//!   request; processes share nothing, as Vercel's instances;
//! - a request under a function's path goes to one of its instances (round
//!   robin, or the one named by the `x-vercel-local-instance` header, for
//!   tests), with the headers Vercel's edge adds (`x-forwarded-for`,
//!   `x-real-ip`, `x-forwarded-host`, `x-forwarded-proto`, `x-vercel-id`) and
//!   the bridge's `x-vercel-internal-invocation-id` /
//!   `x-vercel-internal-request-id`; the answer streams back as the function
//!   writes it;
//! - the max duration (`--max-duration`, Vercel's 300 s default): an answer
//!   whose head has not come by then is a `504 FUNCTION_INVOCATION_TIMEOUT`,
//!   a body still streaming is cut (the connection ends without a clean end
//!   of the chunked body), as when Vercel stops a function;
//! - each request's `end` message is checked, logs are printed, and
//!   `GET /@vercel-local/stats` counts requests, ends, cuts and timeouts;
//! - a project's `public/` directory (`--public DIR`): a `GET` no function
//!   serves gets the file at its path, as Vercel serves static files.
//!
//! What it does **not** emulate: Vercel's edge network (TLS, compression,
//! caching, regions), Fluid compute's scaling (the instance count is fixed,
//! every instance takes any number of concurrent requests), cold starts and
//! the freezing of idle instances, `vercel.json` routes, rewrites and crons
//! (call a cron's path yourself), request body limits, `waitUntil`, and the
//! port: the runtime listens on 3000 on Vercel; here each instance gets a
//! free port through `VERCEL_DEV_PORT`.

pub mod bridge;
mod instance;
mod proxy;
mod public;
mod stats;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Result;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

pub use instance::Instance;
pub use stats::{Stats, StatsSnapshot};

/// Vercel's default max duration on Fluid compute.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(300);

/// One function: requests under `path` run `binary`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// The path prefix, e.g. `/api/stream`.
    pub path: String,
    /// The built `[[bin]]` of `api/stream.rs`.
    pub binary: PathBuf,
}

/// Why a `--function` argument is not `PATH=BINARY`.
#[derive(Debug, thiserror::Error)]
#[error("expected PATH=BINARY (e.g. /api/stream=target/debug/stream), got {0:?}")]
pub struct BadFunction(String);

impl FromStr for Function {
    type Err = BadFunction;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('=') {
            Some((path, binary)) if path.starts_with('/') && !binary.is_empty() => Ok(Self {
                path: path.to_owned(),
                binary: binary.into(),
            }),
            _ => Err(BadFunction(text.to_owned())),
        }
    }
}

impl Function {
    /// Whether requests for `path` go to this function.
    pub fn serves(&self, path: &str) -> bool {
        path.strip_prefix(self.path.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
    }
}

/// What to run.
#[derive(Clone, Debug)]
pub struct HarnessConfig {
    /// The functions.
    pub functions: Vec<Function>,
    /// Processes per function.
    pub instances: usize,
    /// How long a function may answer.
    pub max_duration: Duration,
    /// Variables every function gets (its project's environment variables).
    pub env: Vec<(String, String)>,
    /// Static files served at their paths (the project's `public/`).
    pub public: Option<PathBuf>,
}

impl HarnessConfig {
    /// `functions`, one instance each, Vercel's default max duration.
    pub fn new(functions: Vec<Function>) -> Self {
        Self {
            functions,
            instances: 1,
            max_duration: DEFAULT_MAX_DURATION,
            env: Vec::new(),
            public: None,
        }
    }
}

/// Where a function's requests go.
#[derive(Debug)]
struct Route {
    function: Function,
    /// Its instances' ports, by instance index.
    ports: Vec<u16>,
    /// The next instance in turn.
    next: AtomicUsize,
}

/// The running functions and the proxy in front of them. Dropping it stops
/// every process.
#[derive(Debug)]
pub struct Harness {
    routes: Vec<Route>,
    instances: Mutex<Vec<Instance>>,
    max_duration: Duration,
    public: Option<PathBuf>,
    stats: Arc<Stats>,
    client: reqwest::Client,
}

impl Harness {
    /// Starts every instance of every function and waits until each has
    /// reported `server-started`.
    pub async fn start(config: HarnessConfig) -> Result<Arc<Self>> {
        let stats = Arc::new(Stats::default());
        let mut routes = Vec::new();
        let mut instances = Vec::new();
        for function in &config.functions {
            let mut ports = Vec::new();
            for index in 0..config.instances.max(1) {
                let instance = Instance::start(function, index, &config.env, stats.clone()).await?;
                ports.push(instance.port);
                instances.push(instance);
            }
            routes.push(Route {
                function: function.clone(),
                ports,
                next: AtomicUsize::new(0),
            });
        }
        Ok(Arc::new(Self {
            routes,
            instances: Mutex::new(instances),
            max_duration: config.max_duration,
            public: config.public,
            stats,
            client: reqwest::Client::new(),
        }))
    }

    /// What happened so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// The routes: `/@vercel-local/stats`, and every function's path.
    pub fn router(self: &Arc<Self>) -> Router {
        Router::new()
            .route(
                "/@vercel-local/stats",
                axum::routing::get(
                    |axum::extract::State(harness): axum::extract::State<Arc<Self>>| async move {
                        axum::Json(harness.stats())
                    },
                ),
            )
            .fallback(proxy::forward)
            .with_state(self.clone())
    }

    /// Serves on `listener` until the future is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        let app = self
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await
    }

    /// Every instance is still running; names the first that is not.
    pub async fn check_running(&self) -> Result<()> {
        for instance in self.instances.lock().await.iter_mut() {
            if !instance.is_running() {
                anyhow::bail!(
                    "instance {} of {} exited",
                    instance.index,
                    instance.function
                );
            }
        }
        Ok(())
    }

    /// The port of the instance to use for `path`: `pinned` when given and
    /// valid, else the next in turn.
    fn pick(&self, path: &str, pinned: Option<usize>) -> Option<u16> {
        let route = self
            .routes
            .iter()
            .filter(|route| route.function.serves(path))
            .max_by_key(|route| route.function.path.len())?;
        let instance = match pinned {
            Some(pinned) if pinned < route.ports.len() => pinned,
            _ => route.next.fetch_add(1, Ordering::Relaxed) % route.ports.len(),
        };
        Some(route.ports[instance])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches_function_paths() {
        let function: Function = "/api/stream=target/debug/stream".parse().unwrap();
        assert_eq!(function.binary, PathBuf::from("target/debug/stream"));
        assert!(function.serves("/api/stream"));
        assert!(function.serves("/api/stream/x"));
        assert!(!function.serves("/api/streams"));
        assert!("api=x".parse::<Function>().is_err());
        assert!("/api=".parse::<Function>().is_err());
    }
}
