//! Cloudflare Workers: `cargo xtask build cloudflare [NAME]` builds a worker
//! (the chat by default), `cargo xtask dev cloudflare [NAME] --port P`
//! serves it with `wrangler dev --local`, and the `cloudflare` test step
//! builds every worker of [`workers::WORKERS`], serves each on a free port
//! and runs the workerd tests against them.
//!
//! Every tool is pinned and comes from its registry: worker-build and the
//! wasm-bindgen CLI from crates.io, wrangler (with workerd), esbuild and
//! binaryen's wasm-opt from npm, the compiler from Debian (see `wasm`).
//! worker-build would download wasm-bindgen, esbuild and wasm-opt from
//! GitHub at build time; the `*_BIN` variables point it at ours instead.

mod build;
pub mod workers;
mod wrangler;

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::Workspace;
use crate::browser;
use crate::process;
use crate::tools::{self, CargoTool};
use crate::wasm;

use build::{Optimize, build_with};
use workers::{WORKERS, Worker};
use wrangler::Wrangler;

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

/// `cargo xtask build cloudflare [NAME]`: builds the worker `NAME` (default
/// `chat`) into its crate's `build/`, ready for `npx wrangler deploy`.
pub fn build(workspace: &Workspace, name: Option<&str>) -> Result<()> {
    let worker = workers::named(name)?;
    build_with(workspace, &tools()?, worker, Optimize::Size).map(drop)
}

/// `cargo xtask dev cloudflare [NAME] --port P`: builds the worker and
/// serves it on `127.0.0.1:P` until Ctrl-C.
pub fn dev(workspace: &Workspace, name: Option<&str>, port: u16) -> Result<()> {
    let worker = workers::named(name)?;
    let tools = tools()?;
    let built = build_with(workspace, &tools, worker, Optimize::Size)?;
    let mut wrangler = Wrangler::spawn(workspace, &tools, &built, port, None, None)?;
    wrangler.wait_until_serving()?;
    eprintln!(
        "xtask: the {name} worker is served at {url}/ (WebSocket {ws}/api/ws; the worker's own workerd, past wrangler's proxy, at {direct}); Ctrl-C stops it",
        name = worker.name,
        url = wrangler.url(),
        ws = wrangler.url().replacen("http", "ws", 1),
        direct = wrangler.direct_url()?,
    );
    while !process::interrupted() {
        wrangler.ensure_running()?;
        thread::sleep(Duration::from_millis(300));
    }
    Ok(())
}

/// The `cloudflare` test step: builds every worker (one wasm target
/// directory, so they share their dependencies), starts a `wrangler dev`
/// with a fresh state directory for each, all at once, runs every crate's
/// workerd tests against its own, then every example page in Chromium
/// against them (`tests/browser/pages.test.mjs`), and stops them all
/// whatever happens.
pub fn test(workspace: &Workspace) -> Result<()> {
    // The workerd tests compile only with their feature, which the
    // workspace-wide clippy step does not turn on.
    workspace
        .cargo()
        .args(["clippy", "--locked"])
        .args(package_args())
        .args(["--all-targets", "--", "-D", "warnings"])
        .timeout(TESTS_TIMEOUT)
        .run()?;
    let tools = tools()?;
    let token = format!("t{}", std::process::id());
    let started = Instant::now();
    // Each worker's wrangler starts as soon as it is built, so workerd
    // starts up while the next worker builds; the chat goes last, as its
    // build takes longest: wasm-opt, which takes most of a build, runs for
    // the chat only, whose size the step reports. The others are tested as
    // compiled.
    let variants = WORKERS.iter().map(|w| w.variants.len()).sum::<usize>();
    // The workers' ports, then the variants', then the test keys' server.
    let ports = process::free_ports(2 * (WORKERS.len() + variants) + 1)?;
    let mut variant_ports = ports[2 * WORKERS.len()..ports.len() - 1].chunks(2);
    let (keys, _keys_server) = serve_test_keys(workspace, ports[ports.len() - 1])?;
    let mut servers = Vec::new();
    // The same builds served with other vars, for their tests only.
    let mut variant_servers = Vec::new();
    for (index, worker) in WORKERS.iter().enumerate().rev() {
        let optimize = if index == 0 {
            Optimize::Size
        } else {
            Optimize::Skip
        };
        let built = build_with(workspace, &tools, worker, optimize)?;
        Wrangler::deploy_dry_run(workspace, &tools, &built)?;
        let server = Wrangler::spawn(
            workspace,
            &tools,
            &built,
            ports[2 * index],
            Some(ports[2 * index + 1]),
            Some(&token),
        )?;
        for variant in worker.variants {
            let Some(&[port, inspector]) = variant_ports.next() else {
                bail!("no free port pair left for a variant");
            };
            let log = workspace
                .target_dir
                .join("wrangler-logs")
                .join(format!("{}-{port}.log", worker.name));
            let vars: Vec<(&str, String)> = variant
                .vars
                .iter()
                .map(|&(var, value)| (var, value.replace("{keys}", &keys.to_string())))
                .collect();
            let vars: Vec<(&str, &str)> = vars.iter().map(|(var, v)| (*var, v.as_str())).collect();
            let server = Wrangler::spawn_with(
                workspace,
                &tools,
                &built,
                port,
                Some(inspector),
                None,
                &wrangler::Extra {
                    vars: &vars,
                    log: Some(&log),
                },
            )?;
            variant_servers.push((variant, server, log));
        }
        servers.push((worker, server));
    }
    // The tests compile while workerd starts.
    let tests = || {
        workspace
            .cargo()
            .args(["test", "--locked"])
            .args(package_args())
            .arg("--tests")
            .timeout(TESTS_TIMEOUT)
    };
    tests().arg("--no-run").run()?;
    for server in servers
        .iter_mut()
        .map(|(_, server)| server)
        .chain(variant_servers.iter_mut().map(|(_, server, _)| server))
    {
        server.wait_until_serving()?;
    }
    eprintln!(
        "xtask: {} workers built and serving after {:.1} s",
        servers.len(),
        started.elapsed().as_secs_f64()
    );
    let mut cargo = tests()
        .args([
            "--",
            // Each crate's tests share its Durable Objects; the chat's
            // hibernation test needs its object idle.
            "--test-threads=1",
        ])
        .env("XWS_CF_TOKEN", &token);
    for (worker, server) in &servers {
        cargo = cargo.env(worker.url_var, server.url());
        if let Some(var) = worker.direct_url_var {
            cargo = cargo.env(var, server.direct_url()?);
        }
    }
    for (variant, server, log) in &variant_servers {
        cargo = cargo
            .env(variant.url_var, server.url())
            .env(variant.log_var, log);
    }
    let outcome = cargo.run().context("the workerd tests failed");
    // The pages in Chromium against the same workers, as a user sees them.
    let pages_started = Instant::now();
    let urls: Vec<(&str, String)> = servers
        .iter()
        .map(|(worker, server)| (worker.name, server.url()))
        .collect();
    let pages = browser::run_pages(workspace, browser::Target::Cloudflare, &urls, Some(&token));
    // The plain Worker's stream page: EventSource across a stream's end.
    let stream_page = servers
        .iter()
        .find(|(worker, _)| worker.name == "dashboard-worker")
        .map_or(Ok(()), |(_, server)| {
            let url = server.url();
            browser::run_stream_page(
                workspace,
                &browser::StreamPage {
                    label: "cloudflare-worker",
                    example: "dashboard",
                    url: &url,
                    page: "/",
                    tick: "/api/tick",
                },
            )
        });
    let pages = pages.and(stream_page);
    eprintln!(
        "xtask: cloudflare browser tests {} in {:.1} s",
        if pages.is_ok() { "passed" } else { "FAILED" },
        pages_started.elapsed().as_secs_f64()
    );
    eprintln!(
        "xtask: {} workers built, served and tested in {:.1} s",
        servers.len(),
        started.elapsed().as_secs_f64()
    );
    outcome.and(pages)
}

/// A static server of xws-auth's test keys on `port`, as the aws step has:
/// an identity provider's JWKS URL is `http://{keys}/jwks.json` (`{keys}`
/// in a variant's vars). Stopped when the guard drops.
fn serve_test_keys(
    workspace: &Workspace,
    port: u16,
) -> Result<(std::net::SocketAddr, process::ChildGuard)> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let server = process::Cmd::new("python3")
        .args(["-m", "http.server", "--bind", "127.0.0.1"])
        .arg(port.to_string())
        .arg("--directory")
        .arg(workspace.root.join("crates/xws-auth/tests/keys"))
        .spawn()?;
    process::wait_for_port(addr, Duration::from_secs(30), "the test keys' server")?;
    Ok((addr, server))
}

/// `--package P --features P/workerd` for every worker, so one cargo run
/// builds all their tests with one feature set.
fn package_args() -> Vec<String> {
    let mut args = Vec::new();
    for worker in WORKERS {
        args.extend(["--package".to_owned(), worker.package.to_owned()]);
    }
    let features: Vec<String> = WORKERS
        .iter()
        .map(|worker: &Worker| format!("{}/workerd", worker.package))
        .collect();
    args.extend(["--features".to_owned(), features.join(",")]);
    args
}

/// The Cloudflare part of `cargo xtask bench-targets`: the chat worker
/// built as deployed (wasm-opt), served by a fresh `wrangler dev` without
/// the tests' vars (the deployed defaults), its start-up timed here, then
/// the load driver's joins, chat room and fan-outs to each of `fanout`.
pub fn bench_targets(
    workspace: &Workspace,
    driver: &std::path::Path,
    out: &std::path::Path,
    fanout: &str,
    seconds: u64,
) -> Result<()> {
    let tools = tools()?;
    let built = build_with(
        workspace,
        &tools,
        workers::named(Some("chat"))?,
        Optimize::Size,
    )?;
    let ports = process::free_ports(2)?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], ports[0]));
    let started = Instant::now();
    let mut server = Wrangler::spawn(workspace, &tools, &built, ports[0], Some(ports[1]), None)?;
    // `/` is the Worker entry's page, which never reaches the Durable Object.
    let deadline = started + Duration::from_secs(120);
    while !wrangler::http_status_within(addr, "/", Duration::from_secs(5)).is_ok_and(|s| s == 200) {
        server.ensure_running()?;
        if Instant::now() >= deadline || process::interrupted() {
            bail!("the chat worker did not answer / within 120 s");
        }
        thread::sleep(Duration::from_millis(20));
    }
    let serving = started.elapsed();
    let handshake =
        || crate::bench_targets::websocket_welcome(addr, "/api/ws", Duration::from_secs(60));
    let first = handshake()?;
    let warm = crate::bench_targets::median((0..7).map(|_| handshake()).collect::<Result<_>>()?);
    let ms = |duration: Duration| format!("{:.3}", duration.as_secs_f64() * 1e3);
    eprintln!(
        "xtask: cloudflare start-up: serving after {} ms, first WebSocket {} ms, warm {} ms",
        ms(serving),
        ms(first),
        ms(warm)
    );
    let (proxy, worker) = server.workerd_pids()?;
    process::Cmd::new(driver)
        .arg("--out")
        .arg(out)
        .arg("cloudflare")
        .arg("--url")
        .arg(format!("ws://{addr}/api/ws"))
        .arg("--pid")
        .arg(format!("worker workerd={worker}"))
        .arg("--pid")
        .arg(format!("proxy workerd={proxy}"))
        .args(["--fanout", fanout])
        .arg("--seconds")
        .arg(seconds.to_string())
        .arg("--spawn-to-serving-ms")
        .arg(ms(serving))
        .arg("--first-websocket-ms")
        .arg(ms(first))
        .arg("--warm-websocket-ms")
        .arg(ms(warm))
        .timeout(Duration::from_secs(30 * 60))
        .run()?;
    server.ensure_running()
}
