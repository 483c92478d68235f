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

/// How long and how many at once: `cargo xtask fuzz --seconds S --jobs J [TARGET...]`.
pub struct Plan {
    /// libFuzzer's `-max_total_time` per target (wall clock).
    pub seconds_per_target: u64,
    /// Targets fuzzed at the same time, each on its own core.
    pub jobs: usize,
    /// The targets to fuzz; empty: every one `cargo fuzz list` names.
    pub only: Vec<String>,
}

/// Builds every target, replays the known crashes, then fuzzes each chosen
/// target for `plan.seconds_per_target`, `plan.jobs` at a time. With more
/// than one job each target's libFuzzer output goes to
/// `target/fuzz/logs/<target>.log` so the runs do not interleave.
pub fn run(workspace: &Workspace, plan: &Plan) -> Result<()> {
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
    let listed = fuzz(&["list"]).timeout(Duration::from_secs(60)).read()?;
    let listed: Vec<&str> = listed
        .lines()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    if let Some(unknown) = plan.only.iter().find(|t| !listed.contains(&t.as_str())) {
        bail!(
            "no fuzz target {unknown}; the targets are {}",
            listed.join(", ")
        );
    }
    let targets: Vec<&str> = listed
        .into_iter()
        .filter(|t| plan.only.is_empty() || plan.only.iter().any(|o| o == t))
        .collect();
    let log_dir = target_dir.join("logs");
    std::fs::create_dir_all(&log_dir)?;

    let fuzz_one = |target: &str| -> Result<String> {
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
        eprintln!("xtask: fuzzing {target} for {} s", plan.seconds_per_target);
        let started = Instant::now();
        let corpus = format!("corpus/{target}");
        std::fs::create_dir_all(fuzz_dir.join(&corpus))?;
        let mut args = vec!["run", target, &corpus];
        let seeds = format!("seeds/{target}");
        if has_files(&fuzz_dir.join(&seeds)) {
            args.push(&seeds);
        }
        let max_time = format!("-max_total_time={}", plan.seconds_per_target);
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
        let mut command =
            fuzz(&args).timeout(Duration::from_secs(plan.seconds_per_target + 15 * 60));
        let log = log_dir.join(format!("{target}.log"));
        if plan.jobs > 1 {
            command = command.output_to(&log)?;
        }
        if let Err(error) = command.run() {
            bail!(
                "{target} found a crash: {error}\nthe input is in {}; add it to \
                 fuzz/regressions/{target}/ and as a unit test where the bug was{}",
                fuzz_dir.join("artifacts").join(target).display(),
                if plan.jobs > 1 {
                    format!(" (libFuzzer's output: {})", log.display())
                } else {
                    String::new()
                }
            );
        }
        let runs = if plan.jobs > 1 {
            executions(&log)
        } else {
            None
        };
        Ok(match runs {
            Some(runs) => format!("{target} {} s, {runs} runs", started.elapsed().as_secs()),
            None => format!("{target} {} s", started.elapsed().as_secs()),
        })
    };

    // A shared queue: each job takes the next target until none is left or
    // one finds a crash.
    let next = std::sync::Mutex::new(targets.into_iter());
    let results: Vec<Result<Vec<String>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..plan.jobs.max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let target = next.lock().expect("fuzz queue").next();
                        let Some(target) = target else {
                            return Ok(done);
                        };
                        match fuzz_one(target) {
                            Ok(line) => done.push(line),
                            Err(error) => {
                                // Stop the other jobs from taking more work.
                                next.lock().expect("fuzz queue").by_ref().for_each(drop);
                                return Err(error);
                            }
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a fuzz job panicked"))
            .collect()
    });
    let mut summary = Vec::new();
    for result in results {
        summary.extend(result?);
    }
    eprintln!(
        "xtask: fuzzing done without a crash: {}",
        summary.join(", ")
    );
    Ok(())
}

/// The executions libFuzzer reported last in its log (`#N ...` lines).
fn executions(log: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines().rev().find_map(|line| {
        line.strip_prefix('#')?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
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
