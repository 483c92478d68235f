//! Installing the tools the tests need, once per machine.
//!
//! Tools live outside the clone, in `~/.cache/xws/tools` (or
//! `$XWS_TOOLS_DIR`), so a fresh clone on the same machine reuses them and a
//! new machine installs them on its first run. Every install is pinned and
//! skipped when the pinned version is already there.

// The helpers serve the steps of several adapters (Cloudflare, AWS, browser,
// Autobahn); not every one is called by the steps in the tree today.
#![allow(dead_code)]

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::process::Cmd;

/// Environment variable overriding the tools cache directory.
pub const TOOLS_DIR_VAR: &str = "XWS_TOOLS_DIR";

const INSTALL_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The tools cache directory, created if missing.
pub fn cache_dir() -> Result<PathBuf> {
    let dir = match env::var_os(TOOLS_DIR_VAR) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let cache = env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
                .context("neither XWS_TOOLS_DIR, XDG_CACHE_HOME nor HOME is set")?;
            cache.join("xws").join("tools")
        }
    };
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Whether the Debian package `package` is installed.
pub fn apt_installed(package: &str) -> bool {
    Cmd::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .timeout(Duration::from_secs(30))
        .read()
        .is_ok_and(|status| status.trim() == "install ok installed")
}

/// Installs the Debian packages that are missing (needs root).
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|package| !apt_installed(package))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !nix::unistd::Uid::effective().is_root() {
        bail!(
            "missing Debian packages {missing:?}; install them with \
             `sudo apt-get install -y --no-install-recommends {}`",
            missing.join(" ")
        );
    }
    progress(&format!("installing Debian packages {missing:?}"));
    static UPDATE: Once = Once::new();
    let mut update = Ok(());
    UPDATE.call_once(|| update = apt_get().arg("update").run());
    update.context("apt-get update")?;
    apt_get()
        .args(["install", "-y", "--no-install-recommends"])
        .args(&missing)
        .run()
        .with_context(|| format!("installing {missing:?} with apt-get"))
}

fn apt_get() -> Cmd {
    Cmd::new("apt-get")
        // Another apt run (a developer's, a previous step's) holds the lock
        // for a while; wait for it instead of failing at once.
        .args(["-o", "DPkg::Lock::Timeout=600"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .timeout(INSTALL_TIMEOUT)
}

/// A binary from crates.io, pinned.
#[derive(Clone, Copy, Debug)]
pub struct CargoTool {
    /// The crate.
    pub krate: &'static str,
    /// The exact version.
    pub version: &'static str,
    /// The binary it installs.
    pub bin: &'static str,
    /// Whether to pass `--locked` (some crates' lock files do not build).
    pub locked: bool,
    /// A debug build: a fraction of the build time, fast enough for tools.
    pub debug: bool,
}

/// Installs `tool` into the cache (once) and returns the binary's path.
pub fn cargo_install(tool: CargoTool) -> Result<PathBuf> {
    let root = cache_dir()?
        .join("cargo")
        .join(format!("{}-{}", tool.krate, tool.version));
    let bin = root.join("bin").join(tool.bin);
    if bin.is_file() {
        return Ok(bin);
    }
    progress(&format!("installing {} {}", tool.krate, tool.version));
    let mut install = Cmd::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["install", "--root"])
        .arg(&root)
        .args(["--version", &format!("={}", tool.version), tool.krate])
        // A temporary build directory: the project's target dir is not the
        // place for tool builds.
        .env_remove("CARGO_TARGET_DIR")
        .timeout(INSTALL_TIMEOUT);
    if tool.locked {
        install = install.arg("--locked");
    }
    if tool.debug {
        install = install.arg("--debug");
    }
    install.run()?;
    Ok(bin)
}

/// Installs pinned PyPI `requirements` into the virtualenv `name` in the
/// cache (once) and returns the venv's `bin` directory.
pub fn pip_install(name: &str, requirements: &[&str]) -> Result<PathBuf> {
    let venv = cache_dir()?.join("venv").join(name);
    let bin = venv.join("bin");
    if installed_matches(&venv, requirements) {
        return Ok(bin);
    }
    progress(&format!(
        "installing {requirements:?} into {}",
        venv.display()
    ));
    if !bin.join("python").is_file() {
        Cmd::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .timeout(Duration::from_secs(120))
            .run()
            .context("creating a Python venv (on Debian: apt-get install python3-venv)")?;
    }
    Cmd::new(bin.join("pip"))
        .args(["install", "--disable-pip-version-check", "--no-input"])
        .args(requirements)
        .timeout(INSTALL_TIMEOUT)
        .run()?;
    mark_installed(&venv, requirements)?;
    Ok(bin)
}

/// Installs pinned npm `packages` (`name@version`) under the prefix `name`
/// in the cache (once) and returns its `node_modules/.bin` directory.
pub fn npm_install(name: &str, packages: &[&str]) -> Result<PathBuf> {
    let prefix = cache_dir()?.join("npm").join(name);
    let bin = prefix.join("node_modules").join(".bin");
    if installed_matches(&prefix, packages) {
        return Ok(bin);
    }
    progress(&format!(
        "installing {packages:?} into {}",
        prefix.display()
    ));
    fs::create_dir_all(&prefix)?;
    Cmd::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&prefix)
        .args(packages)
        .env("CI", "true")
        .timeout(INSTALL_TIMEOUT)
        .run()
        .context("npm install (is Node.js with npm installed?)")?;
    mark_installed(&prefix, packages)?;
    Ok(bin)
}

/// The list of what was installed in `dir`, so a changed pin reinstalls.
const MARKER: &str = ".xws-installed";

fn installed_matches(dir: &Path, wanted: &[&str]) -> bool {
    fs::read_to_string(dir.join(MARKER)).is_ok_and(|installed| installed == wanted.join("\n"))
}

fn mark_installed(dir: &Path, installed: &[&str]) -> Result<()> {
    fs::write(dir.join(MARKER), installed.join("\n"))
        .with_context(|| format!("writing {}", dir.join(MARKER).display()))
}

/// Progress for the person or CI log watching: installs take minutes.
fn progress(message: &str) {
    eprintln!("xtask: {message}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_knows_installed_packages() {
        assert!(apt_installed("dpkg"));
        assert!(!apt_installed("xws-no-such-package"));
    }

    #[test]
    fn a_changed_pin_is_not_taken_for_installed() {
        let dir = env::temp_dir().join(format!("xws-tools-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        assert!(!installed_matches(&dir, &["ws@8.18.0"]));
        mark_installed(&dir, &["ws@8.18.0"]).unwrap();
        assert!(installed_matches(&dir, &["ws@8.18.0"]));
        assert!(!installed_matches(&dir, &["ws@8.19.0"]));
        fs::remove_dir_all(&dir).unwrap();
    }
}
