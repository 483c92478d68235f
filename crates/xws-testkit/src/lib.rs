//! A portable conformance suite for the xws chat protocol (`examples/chat`).
//!
//! Scenarios are written once and run through real sockets against any URL: the Tokio
//! chat in-process, the Cloudflare chat under `wrangler dev`, the AWS chat behind a local
//! API Gateway, or several nodes sharing topics (peers are spread round-robin over the
//! [`Target`]'s URLs).
//!
//! - [`run`] runs a selection and returns a [`Report`] (its `Display` is a table).
//! - [`conformance_tests!`] turns every scenario into its own `#[test]`.
//! - [`scenarios`] holds the named scenarios; [`client`] and [`chat`] the reusable
//!   socket helpers they are written with.
//!
//! ```no_run
//! # async fn demo() {
//! let report = xws_testkit::run(&xws_testkit::Target::single("127.0.0.1:3000"), &[]).await;
//! assert!(report.is_success(), "{report}");
//! # }
//! ```

pub mod chat;
pub mod client;
mod error;
mod macros;
mod report;
mod runner;
pub mod scenarios;
pub mod serverless;
mod target;

pub use error::{ScenarioError, ensure_eq};
pub use report::{Outcome, Report, ScenarioResult};
#[doc(hidden)]
pub use runner::run_test;
pub use runner::{run, run_scenario, scenario_names};
pub use scenarios::Scenario;
pub use target::{DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_TIMEOUT, Target};
