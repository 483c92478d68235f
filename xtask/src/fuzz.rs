//! `cargo xtask fuzz`: every cargo-fuzz target in `fuzz/`, each for a
//! bounded time.
//!
//! cargo-fuzz needs a nightly toolchain (`rustup toolchain install
//! nightly`); cargo-fuzz itself is installed once into the tools cache,
//! pinned. Inputs that once crashed a target are kept in
//! `fuzz/regressions/<target>/` and replayed first; a new crash stops the
//! run, names its input under `fuzz/artifacts/<target>/`, and becomes a
//! unit test in the crate it came from plus a file in `fuzz/regressions/`.
//! The growing corpus stays in `fuzz/corpus/` (not committed); it starts
//! from the inputs in `fuzz/seeds/<target>/`, and `fuzz/dicts/<target>.dict`
//! gives libFuzzer the tokens of a format (JSON escapes, field names).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::Workspace;
use crate::process::Cmd;
use crate::tools::{self, CargoTool};

const CARGO_FUZZ: CargoTool = CargoTool {
    krate: "cargo-fuzz",
    version: "0.13.1",
    bin: "cargo-fuzz",
    locked: true,
    debug: true,
};

/// The toolchain cargo-fuzz builds with (sanitizers need nightly).
const TOOLCHAIN: &str = "nightly";

/// Builds every target, replays the known crashes, then fuzzes each target
/// for `seconds_per_target`.
pub fn run(workspace: &Workspace, seconds_per_target: u64) -> Result<()> {
    let cargo_fuzz = tools::cargo_install(CARGO_FUZZ)?;
    ensure_nightly()?;
    let fuzz_dir = workspace.root.join("fuzz");
    let target_dir = workspace.target_dir.join("fuzz");
    let fuzz = |args: &[&str]| {
        Cmd::new(&cargo_fuzz)
            .arg("fuzz")
            .args(args)
            .env("RUSTUP_TOOLCHAIN", TOOLCHAIN)
            // The main workspace's target dir is for stable builds.
            .env_remove("CARGO_TARGET_DIR")
            .current_dir(&fuzz_dir)
    };
    let target_dir_arg = target_dir.to_string_lossy().into_owned();
    fuzz(&["build", "--target-dir", &target_dir_arg])
        .timeout(Duration::from_secs(30 * 60))
        .run()
        .context("building the fuzz targets")?;
    let targets = fuzz(&["list"]).timeout(Duration::from_secs(60)).read()?;
    let mut summary = Vec::new();
    for target in targets.lines().map(str::trim).filter(|t| !t.is_empty()) {
        let regressions = fuzz_dir.join("regressions").join(target);
        if has_files(&regressions) {
            let dir = regressions.to_string_lossy().into_owned();
            fuzz(&[
                "run",
                target,
                &dir,
                "--target-dir",
                &target_dir_arg,
                "--",
                "-runs=0",
            ])
            .timeout(Duration::from_secs(10 * 60))
            .run()
            .with_context(|| format!("{target}: a known crash is back ({dir})"))?;
        }
        eprintln!("xtask: fuzzing {target} for {seconds_per_target} s");
        let started = Instant::now();
        let corpus = format!("corpus/{target}");
        std::fs::create_dir_all(fuzz_dir.join(&corpus))?;
        let mut args = vec!["run", target, &corpus];
        let seeds = format!("seeds/{target}");
        if has_files(&fuzz_dir.join(&seeds)) {
            args.push(&seeds);
        }
        let max_time = format!("-max_total_time={seconds_per_target}");
        args.extend([
            "--target-dir",
            &target_dir_arg,
            "--",
            &max_time,
            "-rss_limit_mb=2048",
        ]);
        let dict = format!("-dict=dicts/{target}.dict");
        if fuzz_dir
            .join("dicts")
            .join(format!("{target}.dict"))
            .is_file()
        {
            args.push(&dict);
        }
        let result = fuzz(&args)
            .timeout(Duration::from_secs(seconds_per_target + 15 * 60))
            .run();
        if let Err(error) = result {
            bail!(
                "{target} found a crash: {error}\nthe input is in {}; add it to \
                 fuzz/regressions/{target}/ and as a unit test where the bug was",
                fuzz_dir.join("artifacts").join(target).display()
            );
        }
        summary.push(format!("{target} {} s", started.elapsed().as_secs()));
    }
    eprintln!(
        "xtask: fuzzing done without a crash: {}",
        summary.join(", ")
    );
    Ok(())
}

fn ensure_nightly() -> Result<()> {
    let ok = Cmd::new("rustc")
        .arg("--version")
        .env("RUSTUP_TOOLCHAIN", TOOLCHAIN)
        .timeout(Duration::from_secs(60))
        .succeeds();
    if !ok {
        bail!("cargo-fuzz needs a nightly toolchain: `rustup toolchain install {TOOLCHAIN}`");
    }
    Ok(())
}

fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}
