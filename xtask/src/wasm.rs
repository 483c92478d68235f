//! `cargo xtask wasm`: the core must build for `wasm32-unknown-unknown`
//! (Cloudflare Workers).
//!
//! rustup cannot download the wasm32 standard library on these machines, so
//! the build uses Debian's Rust (`rustc-web`, `/usr/bin/cargo`) and builds
//! std from its packaged source (`rust-web-src`) with `-Zbuild-std`, linked
//! by `wasm-ld-22`. The flags are passed on the command line rather than in
//! `.cargo/config.toml`, where they would break every native build.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::Workspace;
use crate::process::Cmd;
use crate::tools;

/// The Debian packages of the wasm32 toolchain.
pub const APT_PACKAGES: [&str; 4] = ["rustc-web", "cargo-web", "rust-web-src", "lld-22"];

/// The wasm32 target triple.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// A toolchain able to build for [`TARGET`]; other steps (the Cloudflare
/// worker build) reuse it through [`WasmToolchain::cargo`].
#[derive(Clone, Debug)]
pub struct WasmToolchain {
    /// Debian's cargo.
    pub cargo: PathBuf,
    /// Debian's rustc, whose version matches the packaged std source.
    pub rustc: PathBuf,
    /// Environment for every wasm32 cargo invocation.
    pub env: Vec<(&'static str, String)>,
    /// Arguments every wasm32 cargo invocation takes after its subcommand.
    pub args: Vec<String>,
}

/// Installs the toolchain when missing (apt) and describes it.
pub fn toolchain() -> Result<WasmToolchain> {
    tools::apt_install(&APT_PACKAGES)?;
    Ok(WasmToolchain {
        cargo: "/usr/bin/cargo".into(),
        rustc: "/usr/bin/rustc".into(),
        env: vec![
            // build-std is a nightly feature; Debian's stable compiler allows
            // it with this switch.
            ("RUSTC_BOOTSTRAP", "1".into()),
            ("RUSTDOC", "/usr/bin/rustdoc".into()),
        ],
        args: vec![
            "-Zbuild-std=std,panic_abort".into(),
            "--target".into(),
            TARGET.into(),
            "--config".into(),
            format!("target.{TARGET}.linker=\"wasm-ld-22\""),
        ],
    })
}

impl WasmToolchain {
    /// `cargo <subcommand>` for wasm32, building into `target_dir`.
    pub fn cargo(&self, subcommand: &str, target_dir: &std::path::Path) -> Cmd {
        let mut cmd = Cmd::new(&self.cargo)
            .arg(subcommand)
            .args(&self.args)
            .arg("--target-dir")
            .arg(target_dir)
            // rustup's variables would send the Debian cargo to rustup's
            // compiler, whose std does not match the packaged source.
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO")
            .env("RUSTC", &self.rustc);
        for (key, value) in &self.env {
            cmd = cmd.env(key, value);
        }
        cmd
    }
}

/// Builds `crates/xws` for wasm32 into `target/wasm` (apart from native
/// builds: another compiler, other artifacts).
pub fn build_core(workspace: &Workspace) -> Result<()> {
    let toolchain = toolchain()?;
    toolchain
        .cargo("build", &workspace.target_dir.join("wasm"))
        .args(["--package", "xws", "--locked"])
        .current_dir(&workspace.root)
        .timeout(Duration::from_secs(20 * 60))
        .run()
}
