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
//! The protocol every server speaks is in [`protocol`].

pub mod baseline;
pub mod build;
pub mod chart;
pub mod load;
pub mod machine;
pub mod metrics_check;
pub mod peers;
pub mod protocol;
pub mod results;
pub mod runner;
pub mod scenario;
pub mod server;
