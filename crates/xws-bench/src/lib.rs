//! Side-by-side WebSocket benchmarks for xws.
//!
//! Three parts live here:
//! - a load generator ([`load`]) built on tokio-tungstenite that drives many connections from one
//!   process and counts every lost message;
//! - baseline servers ([`baseline`], bins `baseline-tungstenite` and `baseline-fastwebsockets`)
//!   speaking the same small protocol as the xws examples;
//! - the runner ([`runner`], bin `xws-bench`) that installs the JavaScript peers, starts every
//!   server in turn, runs the scenarios and writes `results.json`, a markdown table and a chart.
//!
//! The soak ([`soak`], bin `xws-soak`, behind `cargo xtask soak`) uses the same load generator
//! and chart code over minutes instead of seconds.
//!
//! The protocol every server speaks is in [`protocol`].

pub mod baseline;
pub mod build;
pub mod chart;
pub mod idle_hold;
pub mod load;
pub mod machine;
pub mod metrics_check;
pub mod peers;
pub mod placement;
pub mod protocol;
pub mod results;
pub mod runner;
pub mod scenario;
pub mod server;
pub mod soak;
pub mod targets;

/// Logs to stderr, at `RUST_LOG` or `info`: what the bins print as they run.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
}
