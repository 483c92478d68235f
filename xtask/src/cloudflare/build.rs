//! Cloudflare Workers: `cargo xtask build cloudflare` builds the chat
//! worker, `cargo xtask dev cloudflare --port P` serves it with
//! `wrangler dev --local`, and the `cloudflare` test step runs the workerd
//! tests against a fresh local instance.
//!
//! Every tool is pinned and comes from its registry: worker-build and the
//! wasm-bindgen CLI from crates.io, wrangler (with workerd), esbuild and
//! binaryen's wasm-opt from npm, the compiler from Debian (see `wasm`).
//! worker-build would download wasm-bindgen, esbuild and wasm-opt from
//! GitHub at build time; the `*_BIN` variables point it at ours instead.

use std::env;
use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::Workspace;
use crate::process::{self, ChildGuard, Cmd};
use crate::tools::{self, CargoTool};
use crate::wasm;

/// worker-build, which runs cargo, wasm-bindgen, wasm-opt and esbuild and
/// writes the JavaScript shim.
const WORKER_BUILD: CargoTool = CargoTool {
    krate: "worker-build",
    version: "0.8.7",
    bin: "worker-build",
    locked: true,
    debug: true,
};

/// Must equal the `wasm-bindgen` version in Cargo.lock (pinned with `=` in
/// the Cloudflare crates). Its lock file does not build, hence no `--locked`.
const WASM_BINDGEN: CargoTool = CargoTool {
    krate: "wasm-bindgen-cli",
    version: "0.2.130",
    bin: "wasm-bindgen",
    locked: false,
    debug: true,
};

/// wrangler 4.86 is the last release that runs on Node 20; it ships workerd.
const NPM_PACKAGES: [&str; 3] = ["wrangler@4.86.0", "esbuild@0.28.2", "binaryen@132.0.0"];

/// The chat worker's crate, relative to the repository root.
const CHAT_DIR: &str = "examples/chat/cloudflare";

const BUILD_TIMEOUT: Duration = Duration::from_secs(40 * 60);
const READY_TIMEOUT: Duration = Duration::from_secs(90);
const TESTS_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The pinned tools, installed on first use.
struct Tools {
    toolchain: wasm::WasmToolchain,
    worker_build: PathBuf,
    wasm_bindgen: PathBuf,
    npm_bin: PathBuf,
}

fn tools() -> Result<Tools> {
    Ok(Tools {
        toolchain: wasm::toolchain()?,
        worker_build: tools::cargo_install(WORKER_BUILD)?,
        wasm_bindgen: tools::cargo_install(WASM_BINDGEN)?,
        npm_bin: tools::npm_install("cloudflare", &NPM_PACKAGES)?,
    })
}

/// What a build produced.
pub struct Built {
    /// The crate directory holding `wrangler.toml`.
    pub dir: PathBuf,
    /// `build/index_bg.wasm`, the optimized module.
    pub wasm: PathBuf,
    /// How long the build took.
    pub took: Duration,
}

/// `cargo xtask build cloudflare`: builds the chat worker into
/// `examples/chat/cloudflare/build`, ready for `wrangler deploy`.
pub fn build(workspace: &Workspace) -> Result<Built> {
    let tools = tools()?;
    build_with(workspace, &tools)
}

fn build_with(workspace: &Workspace, tools: &Tools) -> Result<Built> {
    ensure_target_libdir(&tools.toolchain)?;
    let dir = workspace.root.join(CHAT_DIR);
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
        .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", "wasm-ld-22")
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
    for (key, value) in &tools.toolchain.env {
        cmd = cmd.env(key, value);
    }
    cmd.run()
        .context("building the chat worker with worker-build")?;
    let built = Built {
        wasm: dir.join("build").join("index_bg.wasm"),
        dir,
        took: started.elapsed(),
    };
    report_size(&built)?;
    Ok(built)
}

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

fn report_size(built: &Built) -> Result<()> {
    let wasm =
        fs::read(&built.wasm).with_context(|| format!("reading {}", built.wasm.display()))?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&wasm)?;
    let compressed = gzip.finish()?.len();
    eprintln!(
        "xtask: chat worker built in {:.0} s: {} ({} KiB, {} KiB gzip)",
        built.took.as_secs_f64(),
        built.wasm.display(),
        wasm.len() / 1024,
        compressed / 1024
    );
    Ok(())
}

/// A running `wrangler dev --local`, stopped (with workerd) on drop.
struct Wrangler {
    _guard: ChildGuard,
    url: String,
}

fn start_wrangler(
    workspace: &Workspace,
    tools: &Tools,
    built: &Built,
    port: u16,
    token: Option<&str>,
) -> Result<Wrangler> {
    // A fresh state directory every run: state written by another workerd
    // version can crash this one, and tests must not see old sockets.
    let persist = workspace.target_dir.join("wrangler-state").join(format!(
        "{}-{}",
        std::process::id(),
        port
    ));
    if persist.exists() {
        fs::remove_dir_all(&persist)?;
    }
    fs::create_dir_all(&persist)?;
    let mut cmd = Cmd::new(tools.npm_bin.join("wrangler"))
        .args(["dev", "--local", "--ip", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .args(["--show-interactive-dev-session=false", "--test-scheduled"])
        .arg("--persist-to")
        .arg(&persist)
        .current_dir(&built.dir)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("CI", "true");
    if let Some(token) = token {
        // The statistics route and a token, so the auth scenarios run too.
        cmd = cmd
            .args(["--var", "XWS_DEBUG:1", "--var"])
            .arg(format!("CHAT_TOKEN:{token}"));
    }
    let mut guard = cmd.spawn()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    process::wait_for_port(addr, READY_TIMEOUT, "wrangler dev")?;
    wait_until_serving(addr, &mut guard)?;
    Ok(Wrangler {
        _guard: guard,
        url: format!("http://{addr}"),
    })
}

/// wrangler listens before workerd serves; waits for a real `200` on `/`.
fn wait_until_serving(addr: SocketAddr, guard: &mut ChildGuard) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        guard.ensure_running()?;
        if http_status(addr, "/").is_ok_and(|status| status == 200) {
            return Ok(());
        }
        if Instant::now() >= deadline || process::interrupted() {
            bail!("the chat worker did not answer on {addr} within {READY_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(300));
    }
}

fn http_status(addr: SocketAddr, path: &str) -> Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let status = std::str::from_utf8(&head[9..12])?.parse()?;
    Ok(status)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `cargo xtask dev cloudflare --port P`: builds the chat worker and serves
/// it on `127.0.0.1:P` until Ctrl-C.
pub fn dev(workspace: &Workspace, port: u16) -> Result<()> {
    let tools = tools()?;
    let built = build_with(workspace, &tools)?;
    let mut wrangler = start_wrangler(workspace, &tools, &built, port, None)?;
    eprintln!(
        "xtask: the chat is served at {0}/ (WebSocket {1}/api/ws); Ctrl-C stops it",
        wrangler.url,
        wrangler.url.replacen("http", "ws", 1)
    );
    while !process::interrupted() {
        wrangler._guard.ensure_running()?;
        thread::sleep(Duration::from_millis(300));
    }
    Ok(())
}

/// The `cloudflare` test step: builds the worker once, starts workerd with a
/// fresh state directory, runs the conformance suite and the workerd tests
/// against it, and stops workerd whatever happens.
pub fn test(workspace: &Workspace) -> Result<()> {
    // The workerd tests compile only with their feature, which the
    // workspace-wide clippy step does not turn on.
    workspace
        .cargo()
        .args([
            "clippy",
            "--locked",
            "--package",
            "chat-cloudflare",
            "--features",
            "workerd",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])
        .timeout(TESTS_TIMEOUT)
        .run()?;
    let tools = tools()?;
    let built = build_with(workspace, &tools)?;
    let token = format!("t{}", std::process::id());
    let wrangler = start_wrangler(workspace, &tools, &built, free_port()?, Some(&token))?;
    workspace
        .cargo()
        .args([
            "test",
            "--locked",
            "--package",
            "chat-cloudflare",
            "--features",
            "workerd",
            "--test",
            "conformance",
            "--test",
            "workerd",
            "--",
            // The tests share one Durable Object; the hibernation test needs
            // it idle.
            "--test-threads=1",
        ])
        .env("XWS_CF_URL", &wrangler.url)
        .env("XWS_CF_TOKEN", &token)
        .timeout(TESTS_TIMEOUT)
        .run()
        .context("the workerd tests failed")
}
