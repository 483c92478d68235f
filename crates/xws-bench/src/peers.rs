//! The JavaScript peers (crossws on Node, Bun): installed from npm, pinned, outside the clone.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};

use crate::server::Launch;

/// The pinned npm manifest, the peers' sources and where they are kept in the repo.
const PACKAGE_JSON: &str = include_str!("../peers/package.json");
const CROSSWS_NODE: &str = include_str!("../peers/crossws-node.mjs");
const BUN: &str = include_str!("../peers/bun.mjs");

/// Environment variable that overrides the install directory.
pub const PEERS_DIR_ENV: &str = "XWS_BENCH_PEERS_DIR";

/// The install directory: `$XWS_BENCH_PEERS_DIR`, else `~/.cache/xws/bench-peers`.
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(PEERS_DIR_ENV) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache/xws/bench-peers")
}

/// Larger than any placeholder script, smaller than any real Bun binary.
const PLACEHOLDER_MAX: u64 = 1 << 20;

/// Bun's name for this machine's architecture in its platform package names.
fn bun_arch() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "aarch64"
    } else {
        "x64"
    }
}

/// Installed JavaScript peers.
#[derive(Debug, Clone)]
pub struct Peers {
    dir: PathBuf,
}

impl Peers {
    /// Writes the peers' sources into `dir` and runs `npm install` there unless the pinned
    /// manifest is already installed.
    pub fn install(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("crossws-node.mjs"), CROSSWS_NODE)?;
        std::fs::write(dir.join("bun.mjs"), BUN)?;
        let stamp = dir.join("node_modules/.xws-bench-installed");
        let installed = std::fs::read_to_string(&stamp).is_ok_and(|done| done == PACKAGE_JSON);
        if !installed {
            std::fs::write(dir.join("package.json"), PACKAGE_JSON)?;
            tracing::info!(dir = %dir.display(), "installing the JavaScript peers from npm");
            // Scripts stay off: Bun's postinstall only moves the binary its platform package
            // already holds, and nothing else here needs one.
            let status = Command::new("npm")
                .current_dir(dir)
                .args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--ignore-scripts",
                    "--loglevel=error",
                ])
                .stdout(Stdio::null())
                .status()
                .context("running npm (is Node installed?)")?;
            if !status.success() {
                bail!("npm install failed ({status}) in {}", dir.display());
            }
            std::fs::write(&stamp, PACKAGE_JSON)?;
        }
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    /// crossws with its Node adapter, on the `node` found on PATH.
    pub fn crossws_node(&self) -> Launch {
        Launch {
            program: "node".into(),
            args: vec!["crossws-node.mjs".into()],
            cwd: Some(self.dir.clone()),
            env: vec![],
        }
    }

    /// Bun.serve, on the Bun binary from npm.
    ///
    /// npm installs the real binary in the platform package (`@oven/bun-linux-x64`); `bun`'s
    /// own `bin/bun.exe` is a placeholder until its postinstall script (skipped here) runs.
    pub fn bun(&self) -> anyhow::Result<Launch> {
        let platform = format!("node_modules/@oven/bun-linux-{}/bin/bun", bun_arch());
        let candidates = [
            self.dir.join(platform),
            self.dir.join("node_modules/bun/bin/bun.exe"),
        ];
        let program = candidates
            .iter()
            .find(|path| {
                path.metadata()
                    .is_ok_and(|m| m.is_file() && m.len() > PLACEHOLDER_MAX)
            })
            .with_context(|| format!("no Bun binary in {}", self.dir.display()))?;
        Ok(Launch {
            program: program.clone(),
            args: vec!["bun.mjs".into()],
            cwd: Some(self.dir.clone()),
            env: vec![],
        })
    }

    /// The DejaVu Sans font from npm, for the chart's labels.
    pub fn font(&self) -> anyhow::Result<Vec<u8>> {
        let path = self
            .dir
            .join("node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf");
        std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
    }
}
