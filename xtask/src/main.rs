//! `cargo xtask`: the project's automation, in Rust so it runs wherever
//! cargo does. `cargo xtask test` is the one command that checks everything
//! (it is what CI runs); the other subcommands are its steps.

// A command-line tool talks to its user on stdout/stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod autobahn;
mod aws;
mod bench;
mod bench_targets;
mod browser;
mod cloudflare;
mod fuzz;
mod matrix;
mod matrix_examples;
mod process;
mod services;
mod soak;
mod test;
mod tools;
mod vercel;
mod wasm;

use std::env;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::process::Cmd;

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "xws project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every check CI runs: services, fmt, clippy, tests, doctests, wasm32 build, AWS stack, matrix.
    Test(test::Args),
    /// Generate adapters-matrix.md from the capability table in crates/xws.
    Matrix {
        /// Fail if adapters-matrix.md differs from what the table generates.
        #[arg(long)]
        check: bool,
    },
    /// Build crates/xws for wasm32-unknown-unknown (installs Debian's wasm toolchain if missing).
    Wasm,
    /// Check (and start, where possible) the services the tests need.
    Services,
    /// Benchmarks against tokio-tungstenite, fastwebsockets, crossws and Bun
    /// (`--quick` for the run of record, `--record` to rewrite BENCHMARKS.md).
    Bench {
        /// Arguments for the runner: --quick, --record, --servers, --scenarios, --rounds, --out,
        /// --no-pin (server and load share the CPUs), --connections N (hold N idle connections
        /// instead of the scenarios).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// The chat on the other targets (workerd, the local AWS stack): CPU per
    /// message and delivery, latency, calls and cost per publication, cold
    /// starts; writes target/xws-bench/targets.{json,md}.
    BenchTargets(bench_targets::Args),
    /// Run the examples' AWS tests (moto, the Lambda runtime API of cargo lambda, the API Gateway emulator, cfn-lint).
    TestAws {
        /// The examples to test (chat, dashboard); none: every one.
        examples: Vec<String>,
    },
    /// The Autobahn|Testsuite against examples/echo (and the Rust client), reports in target/autobahn.
    Autobahn {
        /// The fast subset the test command runs (no 9.* large-message cases).
        #[arg(long)]
        subset: bool,
    },
    /// Every cargo-fuzz target for a bounded time (needs the nightly toolchain).
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Targets fuzzed at once (each takes a core); their output goes to target/fuzz/logs.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// The targets to fuzz; none: every one.
        targets: Vec<String>,
    },
    /// Thousands of chat peers with steady traffic; memory and latency over time as CSV and PNG.
    Soak {
        /// Minutes of traffic.
        #[arg(long, default_value_t = 2)]
        minutes: u64,
        /// Connections.
        #[arg(long, default_value_t = 10_000)]
        connections: usize,
    },
    /// Build an example for a deployment target (`cloudflare`, `aws`).
    Build {
        /// The target: `cloudflare`.
        target: Target,
        /// The example (chat, dashboard, import-progress, notifications; Cloudflare: default chat,
        /// AWS: default every one).
        example: Option<String>,
    },
    /// Build an example and serve it locally until Ctrl-C (`cloudflare`: `wrangler dev --local`;
    /// `aws`: moto, the Lambda runtime API of `cargo lambda watch`, the functions and the
    /// API Gateway emulator).
    Dev {
        /// The target: `cloudflare`.
        target: Target,
        /// The example (chat, dashboard, import-progress, notifications; default chat).
        example: Option<String>,
        /// The port on 127.0.0.1.
        #[arg(long, default_value_t = 8787)]
        port: u16,
    },
}

/// A deployment target with its own build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Target {
    /// Cloudflare Workers (Durable Objects).
    Cloudflare,
    /// AWS Lambda behind API Gateway (each example's `ws`, `http` and scheduled functions).
    Aws,
}

/// The repository the commands work on.
pub struct Workspace {
    /// The repository root.
    pub root: PathBuf,
    /// The cargo target directory shared by every step.
    pub target_dir: PathBuf,
}

impl Workspace {
    fn locate() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives in the workspace root")
            .to_path_buf();
        let target_dir = env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        Workspace { root, target_dir }
    }

    /// The cargo that runs xtask, in the repository root.
    pub fn cargo(&self) -> Cmd {
        Cmd::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into())).current_dir(&self.root)
    }
}

/// The AWS build and dev commands serve the chat only.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let workspace = Workspace::locate();
    let result = process::install_interrupt_handler().and_then(|()| match &cli.command {
        Command::Test(args) => test::run(&workspace, args),
        Command::Matrix { check } => matrix::run(&workspace, *check),
        Command::Wasm => wasm::build_core(&workspace),
        Command::Services => services::check(&workspace),
        Command::Bench { args } => bench::run(&workspace, args),
        Command::BenchTargets(args) => bench_targets::run(&workspace, args),
        Command::Autobahn { subset } => autobahn::run(&workspace, *subset),
        Command::Fuzz {
            seconds,
            jobs,
            targets,
        } => fuzz::run(
            &workspace,
            &fuzz::Plan {
                seconds_per_target: *seconds,
                jobs: *jobs,
                only: targets.clone(),
            },
        ),
        Command::Soak {
            minutes,
            connections,
        } => soak::run(&workspace, *minutes, *connections),
        Command::Build {
            target: Target::Cloudflare,
            example,
        } => cloudflare::build(&workspace, example.as_deref()),
        Command::Dev {
            target: Target::Cloudflare,
            example,
            port,
        } => cloudflare::dev(&workspace, example.as_deref(), *port),
        Command::Build {
            target: Target::Aws,
            example,
        } => aws::build(&workspace, example.as_deref()),
        Command::Dev {
            target: Target::Aws,
            example,
            port,
        } => aws::dev(&workspace, example.as_deref(), *port),
        Command::TestAws { examples } => aws::test_examples(&workspace, examples),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
