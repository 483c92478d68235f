//! `cargo xtask wasm`: the core must build for `wasm32-unknown-unknown`
//! (Cloudflare Workers).
//!
//! The toolchain is rustup's own wasm32 target (`rustup target add`) where
//! rustup can download it, which is the fast path: a prebuilt std, rust-lld.
//! Where it cannot (machines without that download), the build falls back to
//! Debian's Rust (`rustc-web`, `/usr/bin/cargo`) and its packaged std source
//! (`rust-web-src`), linked by `wasm-ld-22`: std is built from that source
//! once per machine and compiler (`-Zbuild-std`, ~3 min) into a sysroot in
//! the tools cache. That fallback is kept by hand because no packaged tool
//! does it. The flags are passed on the command line rather than in
//! `.cargo/config.toml`, where they would break every native build.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::Workspace;
use crate::process::Cmd;
use crate::tools;

/// The Debian packages of the wasm32 toolchain.
pub const APT_PACKAGES: [&str; 4] = ["rustc-web", "cargo-web", "rust-web-src", "lld-22"];

/// The wasm32 target triple.
pub const TARGET: &str = "wasm32-unknown-unknown";

const LINKER: &str = "wasm-ld-22";
const BUILD_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// A toolchain able to build for [`TARGET`]; other steps (the Cloudflare
/// worker build) reuse it through [`WasmToolchain::cargo`].
#[derive(Clone, Debug)]
pub struct WasmToolchain {
    /// Debian's cargo.
    pub cargo: PathBuf,
    /// Debian's rustc, whose version matches the packaged std source.
    pub rustc: PathBuf,
    /// A sysroot holding the wasm32 std built by that rustc: pass
    /// `--sysroot` to rustc (tools such as worker-build look for
    /// `lib/rustlib/wasm32-unknown-unknown/lib` in it).
    pub sysroot: PathBuf,
    /// Environment every wasm32 cargo invocation of this toolchain needs
    /// (`RUSTC_BOOTSTRAP` for `-Zbuild-std`, Debian's rustdoc).
    pub env: Vec<(&'static str, String)>,
    /// The linker to name; `None` keeps the target's default (rust-lld).
    pub linker: Option<&'static str>,
    /// Whether std must be built from source for LTO-optimised builds
    /// (Debian's std is only source; rustup's ships bitcode).
    pub build_std: bool,
    /// Whether `cargo clippy` exists for it (rustup's does; Debian's
    /// `cargo-web` ships without clippy, so the worker crates are only
    /// checked there).
    pub clippy: bool,
}

/// rustup's wasm32 target when rustup can add it; otherwise Debian's
/// toolchain, installed when missing (apt), with the wasm32 std built once
/// per machine.
pub fn toolchain() -> Result<WasmToolchain> {
    match rustup_toolchain() {
        Ok(toolchain) => return Ok(toolchain),
        Err(error) => {
            eprintln!("xtask: rustup cannot provide {TARGET} ({error:#}); using Debian's toolchain")
        }
    }
    debian_toolchain()
}

fn rustup_toolchain() -> Result<WasmToolchain> {
    Cmd::new("rustup")
        .args(["target", "add", TARGET])
        .timeout(Duration::from_secs(5 * 60))
        .run()?;
    let which = |tool: &str| -> Result<PathBuf> {
        let path = Cmd::new("rustup")
            .args(["which", tool])
            .timeout(Duration::from_secs(30))
            .read()?;
        Ok(PathBuf::from(path.trim()))
    };
    let rustc = which("rustc")?;
    let sysroot = Cmd::new(&rustc)
        .args(["--print", "sysroot"])
        .timeout(Duration::from_secs(30))
        .read()?;
    Ok(WasmToolchain {
        cargo: which("cargo")?,
        rustc,
        sysroot: PathBuf::from(sysroot.trim()),
        env: Vec::new(),
        linker: None,
        build_std: false,
        clippy: true,
    })
}

fn debian_toolchain() -> Result<WasmToolchain> {
    tools::apt_install(&APT_PACKAGES)?;
    let cargo = PathBuf::from("/usr/bin/cargo");
    let rustc = PathBuf::from("/usr/bin/rustc");
    let env = vec![
        // build-std is a nightly feature; Debian's stable compiler allows it
        // with this switch.
        ("RUSTC_BOOTSTRAP", "1".to_owned()),
        ("RUSTDOC", "/usr/bin/rustdoc".to_owned()),
    ];
    let sysroot = ensure_sysroot(&cargo, &rustc, &env)?;
    Ok(WasmToolchain {
        cargo,
        rustc,
        sysroot,
        env,
        linker: Some(LINKER),
        build_std: true,
        clippy: false,
    })
}

impl WasmToolchain {
    /// `cargo <subcommand>` for wasm32 against the prebuilt std, building
    /// into `target_dir`.
    pub fn cargo(&self, subcommand: &str, target_dir: &Path) -> Cmd {
        let rustflags = format!(
            "target.{TARGET}.rustflags=[\"--sysroot\", \"{}\"]",
            self.sysroot.display()
        );
        self.bare_cargo(subcommand, target_dir)
            .args(["--config", &rustflags])
            // RUSTFLAGS would replace the `rustflags` above and lose the sysroot.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
    }

    /// This toolchain's cargo for wasm32, with no std chosen yet.
    fn bare_cargo(&self, subcommand: &str, target_dir: &Path) -> Cmd {
        let mut cmd = Cmd::new(&self.cargo).args([subcommand, "--target", TARGET]);
        if let Some(linker) = self.linker {
            cmd = cmd
                .arg("--config")
                .arg(format!("target.{TARGET}.linker=\"{linker}\""));
        }
        let cmd = cmd
            .arg("--target-dir")
            .arg(target_dir)
            // rustup's variables would send Debian's cargo to rustup's
            // compiler, whose std does not match the packaged source; the
            // toolchain's own `RUSTC` is named below in both cases.
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("RUSTC_WRAPPER")
            .env_remove("RUSTC_WORKSPACE_WRAPPER")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO")
            .env("RUSTC", &self.rustc)
            .timeout(BUILD_TIMEOUT);
        self.env
            .iter()
            .fold(cmd, |cmd, (key, value)| cmd.env(key, value))
    }
}

/// The sysroot for this rustc, built from the packaged std source if the
/// cache does not have it yet.
fn ensure_sysroot(cargo: &Path, rustc: &Path, env: &[(&'static str, String)]) -> Result<PathBuf> {
    let version = Cmd::new(rustc)
        .arg("-vV")
        .timeout(Duration::from_secs(30))
        .read()?;
    let cache = tools::cache_dir()?.join("wasm-sysroot");
    let sysroot = cache.join(compiler_key(&version));
    let lib = sysroot.join("lib/rustlib").join(TARGET).join("lib");
    let complete = sysroot.join(".complete");
    if complete.is_file() {
        return Ok(sysroot);
    }
    eprintln!(
        "xtask: building the wasm32 standard library once into {}",
        sysroot.display()
    );
    let scratch = cache.join("build");
    write_empty_crate(&scratch)?;
    let partial = WasmToolchain {
        cargo: cargo.to_path_buf(),
        rustc: rustc.to_path_buf(),
        sysroot: sysroot.clone(),
        env: env.to_vec(),
        linker: Some(LINKER),
        build_std: true,
        clippy: false,
    };
    partial
        .bare_cargo("build", &scratch.join("target"))
        .args([
            "--release",
            "-Zbuild-std=std,panic_abort",
            "--manifest-path",
        ])
        .arg(scratch.join("Cargo.toml"))
        // Bitcode lets later builds use LTO on this std.
        .env("RUSTFLAGS", "-Cembed-bitcode=yes")
        .run()
        .context("building the wasm32 standard library")?;
    let deps = scratch.join("target").join(TARGET).join("release/deps");
    let _ = fs::remove_dir_all(&sysroot);
    fs::create_dir_all(&lib)?;
    for entry in fs::read_dir(&deps).with_context(|| format!("reading {}", deps.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(".rlib") && !name.starts_with("libxws_wasm_std") {
            fs::copy(&path, lib.join(path.file_name().unwrap_or_default()))?;
        }
    }
    fs::write(&complete, &version)?;
    fs::remove_dir_all(&scratch)?;
    Ok(sysroot)
}

/// A directory name for one compiler build: its release and commit.
fn compiler_key(version_verbose: &str) -> String {
    let field = |name: &str| {
        version_verbose
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(str::trim)
            .unwrap_or("unknown")
    };
    let commit = field("commit-hash:");
    format!(
        "{}-{}",
        field("release:"),
        commit.get(..12).unwrap_or(commit)
    )
}

fn write_empty_crate(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir.join("src"))?;
    fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"xws-wasm-std\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
         [workspace]\n[profile.release]\npanic = \"abort\"\n",
    )?;
    fs::write(dir.join("src/lib.rs"), "//! Only here to build std.\n")?;
    Ok(())
}

/// Builds `crates/xws` for wasm32 into `target/wasm` (apart from native
/// builds: another compiler, other artifacts).
pub fn build_core(workspace: &Workspace) -> Result<()> {
    let toolchain = toolchain()?;
    let target_dir = workspace.target_dir.join("wasm");
    toolchain
        .cargo("build", &target_dir)
        .args(["--package", "xws", "--locked"])
        .current_dir(&workspace.root)
        .run()?;
    lint_workers(workspace, &toolchain, &target_dir)
}

/// Clippy (warnings denied) on the Cloudflare adapter and every worker crate
/// for wasm32. Their code behind `#[cfg(target_arch = "wasm32")]` is
/// invisible to the native clippy step, so without this a compile error
/// there would surface only inside worker-build in the cloudflare step, and a
/// lint never.
fn lint_workers(workspace: &Workspace, toolchain: &WasmToolchain, target_dir: &Path) -> Result<()> {
    let subcommand = if toolchain.clippy { "clippy" } else { "check" };
    let packages = std::iter::once("xws-cloudflare").chain(
        crate::cloudflare::workers::WORKERS
            .iter()
            .map(|worker| worker.package),
    );
    let mut cmd = toolchain
        .cargo(subcommand, target_dir)
        .args(["--locked", "--lib"]);
    for package in packages {
        cmd = cmd.args(["--package", package]);
    }
    if toolchain.clippy {
        cmd = cmd.args(["--", "-D", "warnings"]);
    }
    cmd.current_dir(&workspace.root).run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiler_key_names_release_and_commit() {
        let version =
            "rustc 1.96.0\nbinary: rustc\ncommit-hash: 0123456789abcdef\nrelease: 1.96.0\n";
        assert_eq!(compiler_key(version), "1.96.0-0123456789ab");
    }
}
