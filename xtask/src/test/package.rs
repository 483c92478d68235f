//! Packaging: every crate meant for crates.io packages (`cargo package`),
//! and none of them reads a file from outside its own directory at compile
//! time (an `include_str!` across crates builds in the workspace but breaks
//! the published crate).
//!
//! `--no-verify` keeps the step to seconds: verifying would rebuild every
//! crate and its dependencies from the packages, which the `clippy` and
//! `tests` steps already build from the same sources; the include scan
//! catches what only a verify build would.

use std::{
    fs,
    path::{Component, Path, PathBuf},
    time::Duration,
};

use anyhow::{Context as _, Result, bail};

use crate::Workspace;

pub fn run(workspace: &Workspace) -> Result<()> {
    let crates = publishable(workspace)?;
    let mut escapes = Vec::new();
    for (_, dir) in &crates {
        escapes.extend(includes_outside(dir)?);
    }
    if !escapes.is_empty() {
        bail!(
            "files included from outside their crate (they are not in the published package):\n  {}",
            escapes.join("\n  ")
        );
    }
    let mut cmd = workspace
        .cargo()
        .args(["package", "--no-verify", "--allow-dirty", "--quiet"]);
    for (name, _) in &crates {
        cmd = cmd.args(["--package", name]);
    }
    cmd.timeout(Duration::from_secs(10 * 60)).run()?;
    eprintln!("xtask: {} crates package", crates.len());
    Ok(())
}

/// Workspace members without `publish = false`, with their directories.
fn publishable(workspace: &Workspace) -> Result<Vec<(String, PathBuf)>> {
    let metadata = workspace
        .cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .timeout(Duration::from_secs(2 * 60))
        .read()?;
    let metadata: serde_json::Value =
        serde_json::from_str(&metadata).context("parsing cargo metadata")?;
    let packages = metadata["packages"].as_array().context("no packages")?;
    Ok(packages
        .iter()
        // `publish` is null when unrestricted and `[]` for `publish = false`.
        .filter(|package| package["publish"].is_null())
        .filter_map(|package| {
            let name = package["name"].as_str()?.to_owned();
            let manifest = Path::new(package["manifest_path"].as_str()?);
            Some((name, manifest.parent()?.to_path_buf()))
        })
        .collect())
}

/// `include_str!`/`include_bytes!` paths in `dir/src` that resolve outside `dir`.
fn includes_outside(dir: &Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.join("src")];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in fs::read_dir(&path)? {
                pending.push(entry?.path());
            }
            continue;
        }
        if path.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let source = fs::read_to_string(&path)?;
        for included in included_paths(&source) {
            let resolved = normalize(&path.parent().unwrap_or(dir).join(included));
            if !resolved.starts_with(dir) {
                found.push(format!("{} includes {included}", path.display()));
            }
        }
    }
    Ok(found)
}

fn included_paths(source: &str) -> Vec<&str> {
    ["include_str!(\"", "include_bytes!(\""]
        .iter()
        .flat_map(|marker| source.match_indices(marker).map(|(at, m)| at + m.len()))
        .filter_map(|start| {
            let rest = &source[start..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_include_that_climbs_out_of_the_crate_is_found() {
        let source = r#"const JS: &str = include_str!("../../other/js/x.js");
            const OK: &[u8] = include_bytes!("../README.md");"#;
        assert_eq!(
            included_paths(source),
            ["../../other/js/x.js", "../README.md"]
        );
        let dir = Path::new("/w/crates/a");
        let file = dir.join("src");
        assert!(!normalize(&file.join("../../other/js/x.js")).starts_with(dir));
        assert!(normalize(&file.join("../README.md")).starts_with(dir));
    }
}
