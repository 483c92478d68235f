//! `cargo xtask test`: every check CI runs, in one command.
//!
//! All steps run even after one fails, so one run shows every problem; the
//! command exits non-zero if any failed. The cargo steps share one target
//! directory (`CARGO_TARGET_DIR` or `target/`), so each crate builds once
//! per profile.

mod clippy;
mod doc;
mod fmt;
mod package;
mod unit;

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::{Workspace, autobahn, browser, cloudflare, matrix, services, wasm};

/// One step of the test command.
struct Step {
    name: &'static str,
    run: fn(&Workspace) -> Result<()>,
}

/// The steps, in order. To add one: write a module with a
/// `fn(&Workspace) -> Result<()>` and add one line here.
const STEPS: &[Step] = &[
    Step {
        name: "services",
        run: services::check,
    },
    Step {
        name: "fmt",
        run: fmt::run,
    },
    Step {
        name: "clippy",
        run: clippy::run,
    },
    Step {
        name: "tests",
        run: unit::run,
    },
    Step {
        name: "doctests",
        run: doc::run,
    },
    Step {
        name: "package",
        run: package::run,
    },
    // Starts `cargo lambda build --release` of every AWS function in the
    // background, under nice: it builds while the steps below wait on
    // workerd, the emulator, Chromium and Autobahn.
    Step {
        name: "lambda-build",
        run: crate::aws::start_release_build,
    },
    Step {
        name: "wasm",
        run: wasm::build_core,
    },
    Step {
        name: "cloudflare",
        run: cloudflare::test,
    },
    Step {
        name: "aws",
        run: crate::aws::test,
    },
    Step {
        name: "matrix",
        run: |workspace| matrix::run(workspace, true),
    },
    Step {
        name: "browser",
        run: browser::run,
    },
    Step {
        name: "autobahn",
        run: |workspace| autobahn::run(workspace, true),
    },
    // Waits for the release build and checks every bootstrap.
    Step {
        name: "lambda-bootstraps",
        run: crate::aws::check_release_build,
    },
];

/// Options of `cargo xtask test`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Skip a step by name (repeatable); the summary lists the names.
    #[arg(long, value_name = "STEP")]
    skip: Vec<String>,
}

struct Outcome {
    name: &'static str,
    took: Duration,
    error: Option<anyhow::Error>,
}

/// Runs every step not skipped and prints a summary.
pub fn run(workspace: &Workspace, args: &Args) -> Result<()> {
    for name in &args.skip {
        if !STEPS.iter().any(|step| step.name == name) {
            bail!("no step named {name:?}");
        }
    }
    let started = Instant::now();
    let mut outcomes = Vec::new();
    for step in STEPS
        .iter()
        .filter(|step| !args.skip.iter().any(|s| s == step.name))
    {
        eprintln!("\n==> xtask test: {}", step.name);
        let step_started = Instant::now();
        let error = (step.run)(workspace).err();
        if let Some(error) = &error {
            eprintln!("xtask: step {} failed: {error:#}", step.name);
        }
        outcomes.push(Outcome {
            name: step.name,
            took: step_started.elapsed(),
            error,
        });
    }
    crate::aws::stop_release_build();
    print_summary(&outcomes, started.elapsed());
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    if failed > 0 {
        bail!("{failed} of {} steps failed", outcomes.len());
    }
    Ok(())
}

fn print_summary(outcomes: &[Outcome], total: Duration) {
    eprintln!("\n==> xtask test: summary");
    for outcome in outcomes {
        let status = match &outcome.error {
            None => "ok".to_owned(),
            Some(error) => format!("FAILED: {}", first_line(error)),
        };
        eprintln!(
            "  {:<17} {:>7.1} s  {status}",
            outcome.name,
            outcome.took.as_secs_f64()
        );
    }
    eprintln!("  {:<17} {:>7.1} s", "total", total.as_secs_f64());
    // Each failure in full (failed tests, a server's last lines) here at
    // the end, where CI's excerpt of the run still shows it.
    for outcome in outcomes {
        if let Some(error) = &outcome.error {
            eprintln!("\n==> {} failed: {error:#}", outcome.name);
        }
    }
}

fn first_line(error: &anyhow::Error) -> String {
    let text = format!("{error:#}");
    text.lines().next().unwrap_or_default().to_owned()
}
