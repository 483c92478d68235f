//! Building one worker crate with worker-build.

use std::env;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use super::{Tools, Worker};
use crate::Workspace;
use crate::process::Cmd;
use crate::wasm;

const BUILD_TIMEOUT: Duration = Duration::from_secs(40 * 60);

/// Whether binaryen's wasm-opt shrinks the module (about 20 s a worker).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Optimize {
    /// For deployment, and for the size the test step reports.
    Size,
    /// Tests of the other workers: the same code, unshrunk.
    Skip,
}

/// What a build produced.
pub struct Built {
    /// The worker.
    pub worker: &'static Worker,
    /// The crate directory holding `wrangler.toml`.
    pub dir: PathBuf,
    /// `build/index_bg.wasm`, the optimized module.
    pub wasm: PathBuf,
    /// How long the build took.
    pub took: Duration,
    /// Whether wasm-opt ran.
    pub optimize: Optimize,
}

/// Builds `worker` into its crate's `build/`. Every worker builds into the
/// same wasm target directory, so the dependencies they share compile once.
pub fn build_with(
    workspace: &Workspace,
    tools: &Tools,
    worker: &'static Worker,
    optimize: Optimize,
) -> Result<Built> {
    ensure_target_libdir(&tools.toolchain)?;
    let dir = workspace.root.join(worker.dir);
    let started = Instant::now();
    // worker-build calls `cargo` and `rustc` from PATH: Debian's, first.
    let path = prepend_path(&[
        tools
            .toolchain
            .cargo
            .parent()
            .context("cargo has no directory")?,
        &tools.npm_bin,
    ])?;
    let mut cmd = Cmd::new(&tools.worker_build)
        .arg("--release")
        .current_dir(&dir)
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", workspace.target_dir.join("wasm-worker"))
        // Size over speed for the worker: Cloudflare bills and limits size.
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("WASM_BINDGEN_BIN", &tools.wasm_bindgen)
        .env("ESBUILD_BIN", tools.npm_bin.join("esbuild"))
        .env("WASM_OPT_BIN", tools.npm_bin.join("wasm-opt"))
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO")
        .env("RUSTC", &tools.toolchain.rustc)
        .timeout(BUILD_TIMEOUT);
    if optimize == Optimize::Skip {
        cmd = cmd.arg("--no-opt");
    }
    if tools.toolchain.build_std {
        cmd = cmd.env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort");
    }
    if let Some(linker) = tools.toolchain.linker {
        cmd = cmd.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", linker);
    }
    for (key, value) in &tools.toolchain.env {
        cmd = cmd.env(key, value);
    }
    cmd.run()
        .with_context(|| format!("building the {} worker with worker-build", worker.name))?;
    let wasm = dir.join("build").join("index_bg.wasm");
    if optimize == Optimize::Size && env::var_os(KEEP_NAMES_VAR).is_none() {
        strip_names(tools, &wasm)?;
    }
    let built = Built {
        worker,
        wasm,
        dir,
        took: started.elapsed(),
        optimize,
    };
    report_size(&built)?;
    Ok(built)
}

/// Set (to anything) to keep the function names in a deploy build's module.
const KEEP_NAMES_VAR: &str = "XWS_KEEP_WASM_NAMES";

/// Drops the module's `name` section, which worker-build keeps on purpose
/// (it runs wasm-opt with `--debuginfo`, which writes the names whatever
/// the passes): ~100 KB of the gzipped upload, whose only use is Rust
/// function names instead of `wasm-function[N]` in stack traces. wasm-opt
/// without `--debuginfo` writes none. worker-build's single `-O` leaves
/// work for more passes: `-O --converge` here takes the chat worker's gzip
/// from 357,311 to 354,659 B for ~15 s (`-Oz` and
/// `--merge-similar-functions` gave more, `-Os` the same; BENCHMARKS.md).
fn strip_names(tools: &Tools, wasm: &Path) -> Result<()> {
    let mut cmd = Cmd::new(tools.npm_bin.join("wasm-opt"))
        .arg(wasm)
        .arg("-o")
        .arg(wasm)
        .args(["-O", "--converge", "--strip-debug"])
        .timeout(Duration::from_secs(300));
    // The features worker-build enables, so that nothing newer than workerd
    // reads is written.
    for feature in WASM_FEATURES {
        cmd = cmd.arg(format!("--enable-{feature}"));
    }
    cmd.run()
        .with_context(|| format!("stripping the names from {}", wasm.display()))
}

/// worker-build 0.8.7's wasm-opt feature set (`step_run_wasm_opt`).
const WASM_FEATURES: [&str; 7] = [
    "mutable-globals",
    "sign-ext",
    "nontrapping-float-to-int",
    "bulk-memory",
    "multivalue",
    "reference-types",
    "exception-handling",
];

/// worker-build refuses to run unless `rustc --print target-libdir` for
/// wasm32 exists. Debian's compiler has no prebuilt wasm32 std (we build
/// it from source), so the directory is created empty.
fn ensure_target_libdir(toolchain: &wasm::WasmToolchain) -> Result<()> {
    let libdir = Cmd::new(&toolchain.rustc)
        .args(["--target", wasm::TARGET, "--print", "target-libdir"])
        .timeout(Duration::from_secs(30))
        .read()?;
    let libdir = Path::new(libdir.trim());
    if !libdir.is_dir() {
        fs::create_dir_all(libdir).with_context(|| {
            format!(
                "creating {} for worker-build (run once as root: mkdir -p {})",
                libdir.display(),
                libdir.display()
            )
        })?;
    }
    Ok(())
}

fn prepend_path(dirs: &[&Path]) -> Result<std::ffi::OsString> {
    let current = env::var_os("PATH").unwrap_or_default();
    let all = dirs
        .iter()
        .map(|d| d.to_path_buf())
        .chain(env::split_paths(&current));
    env::join_paths(all).context("joining PATH")
}

/// Issue 18's goal for a deployed worker module: 250 KiB gzipped.
const GZIP_GOAL_BYTES: usize = 250 * 1024;

fn report_size(built: &Built) -> Result<()> {
    let wasm =
        fs::read(&built.wasm).with_context(|| format!("reading {}", built.wasm.display()))?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&wasm)?;
    let compressed = gzip.finish()?.len();
    let unoptimized = match built.optimize {
        Optimize::Size if compressed <= GZIP_GOAL_BYTES => ", within the 250 KiB gzip goal",
        Optimize::Size => ", over the 250 KiB gzip goal",
        Optimize::Skip => ", without wasm-opt",
    };
    eprintln!(
        "xtask: {} worker built in {:.0} s: {} ({} KiB, {} KiB gzip{unoptimized})",
        built.worker.name,
        built.took.as_secs_f64(),
        built.wasm.display(),
        wasm.len() / 1024,
        compressed / 1024
    );
    Ok(())
}
