//! `cargo xtask`: the project's automation, in Rust so it runs wherever
//! cargo does. `cargo xtask test` is the one command that checks everything
//! (it is what CI runs); the other subcommands are its steps.

// A command-line tool talks to its user on stdout/stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod aws;
mod matrix;
mod process;
mod services;
mod test;
mod tools;
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
    /// Run an example locally on an emulated platform: `cargo xtask dev aws --port P`.
    Dev {
        /// The platform (only `aws` for now).
        platform: String,
        /// The port on 127.0.0.1.
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
    /// Run the AWS tests (moto, cargo lambda watch, the API Gateway emulator, cfn-lint).
    TestAws,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let workspace = Workspace::locate();
    let result = process::install_interrupt_handler().and_then(|()| match &cli.command {
        Command::Test(args) => test::run(&workspace, args),
        Command::Matrix { check } => matrix::run(&workspace, *check),
        Command::Wasm => wasm::build_core(&workspace),
        Command::Services => services::check(&workspace),
        Command::Dev { platform, port } => match platform.as_str() {
            "aws" => aws::dev(&workspace, *port),
            other => Err(anyhow::anyhow!("no dev stack for {other:?}; try `aws`")),
        },
        Command::TestAws => aws::test(&workspace),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
