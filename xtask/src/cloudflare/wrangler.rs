//! `wrangler dev --local` (workerd) serving one built worker.

use std::fs;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use super::Tools;
use super::build::Built;
use crate::Workspace;
use crate::process::{self, ChildGuard, Cmd};

const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// What a served variant adds to a `wrangler dev`.
pub struct Extra<'a> {
    /// Vars besides the worker's.
    pub vars: &'a [(&'a str, &'a str)],
    /// A file that gets wrangler's output too (by default
    /// `target/wrangler-logs/NAME-PORT.log`, which an early exit quotes).
    pub log: Option<&'a Path>,
}

/// A running `wrangler dev --local`, stopped (with workerd) on drop.
pub struct Wrangler {
    guard: ChildGuard,
    addr: SocketAddr,
    name: &'static str,
}

impl Wrangler {
    /// Starts serving `built` on `127.0.0.1:port` without waiting for it.
    /// workerd's inspector listens on `inspector` (its default, 9229, when
    /// `None`): workers served side by side need one port each. With a
    /// `token`, the worker's token var holds it, its debug routes are on
    /// and its test vars are set, so the tests' auth, statistics and
    /// limit scenarios run.
    pub fn spawn(
        workspace: &Workspace,
        tools: &Tools,
        built: &Built,
        port: u16,
        inspector: Option<u16>,
        token: Option<&str>,
    ) -> Result<Self> {
        let extra = Extra {
            vars: &[],
            log: None,
        };
        Self::spawn_with(workspace, tools, built, port, inspector, token, &extra)
    }

    /// [`Wrangler::spawn`] with [`Extra`] vars and log.
    pub fn spawn_with(
        workspace: &Workspace,
        tools: &Tools,
        built: &Built,
        port: u16,
        inspector: Option<u16>,
        token: Option<&str>,
        extra: &Extra<'_>,
    ) -> Result<Self> {
        // A fresh state directory every run: state written by another
        // workerd version can crash this one, and tests must not see old
        // sockets.
        let persist = workspace.target_dir.join("wrangler-state").join(format!(
            "{}-{}-{port}",
            built.worker.name,
            std::process::id(),
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
        if let Some(inspector) = inspector {
            cmd = cmd.arg("--inspector-port").arg(inspector.to_string());
        }
        if let Some(token) = token {
            cmd = cmd.args(["--var", "XWS_DEBUG:1"]);
            if let Some(var) = built.worker.token_var {
                cmd = cmd.arg("--var").arg(format!("{var}:{token}"));
            }
            for (var, value) in built.worker.test_vars {
                let value = value.replace("{port}", &port.to_string());
                cmd = cmd.arg("--var").arg(format!("{var}:{value}"));
            }
        }
        for (var, value) in extra.vars {
            cmd = cmd.arg("--var").arg(format!("{var}:{value}"));
        }
        let log = extra.log.map_or_else(
            || {
                workspace
                    .target_dir
                    .join("wrangler-logs")
                    .join(format!("{}-{port}.log", built.worker.name))
            },
            Path::to_path_buf,
        );
        Ok(Self {
            guard: cmd.log_to(&log).spawn()?,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            name: built.worker.name,
        })
    }

    /// `wrangler deploy --dry-run` of `built`: the deploy path checked
    /// without an account (wrangler.toml's bindings, migrations and
    /// triggers, the bundle of the worker-build output), into
    /// `target/wrangler-dry-run/NAME`.
    pub fn deploy_dry_run(workspace: &Workspace, tools: &Tools, built: &Built) -> Result<()> {
        let outdir = workspace
            .target_dir
            .join("wrangler-dry-run")
            .join(built.worker.name);
        Cmd::new(tools.npm_bin.join("wrangler"))
            .args(["deploy", "--dry-run", "--outdir"])
            .arg(&outdir)
            .current_dir(&built.dir)
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true")
            .timeout(Duration::from_secs(120))
            .run()
            .with_context(|| {
                format!(
                    "wrangler deploy --dry-run of the {} worker",
                    built.worker.name
                )
            })
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of the workerd that runs the worker itself, behind the one
    /// on [`Wrangler::url`]: wrangler's proxy worker, which buffers what it
    /// relays in a socket between the two that Linux lets grow to
    /// `tcp_rmem`'s maximum (32 MiB here), so a test of what the worker does
    /// when its client stops reading talks to the worker directly. Found as
    /// the sibling workerd (same parent) listening on a loopback port that
    /// answers `/` with 200; Linux only (`ss`, `/proc`). Probing its
    /// debug port makes workerd log an "RPC connection broken" line.
    pub fn direct_url(&self) -> Result<String> {
        let (_, port, _) = self.worker_workerd()?;
        Ok(format!("http://127.0.0.1:{port}"))
    }

    /// The process ids of wrangler's proxy workerd (on [`Wrangler::url`])
    /// and of the workerd running the worker itself (the one
    /// [`Wrangler::direct_url`] finds), for what each costs.
    pub fn workerd_pids(&self) -> Result<(u32, u32)> {
        let (proxy, _, worker) = self.worker_workerd()?;
        Ok((proxy, worker))
    }

    /// The proxy's pid, and the port and pid of the worker's own workerd:
    /// the sibling that answers `/` with 200.
    fn worker_workerd(&self) -> Result<(u32, u16, u32)> {
        let (proxy, siblings) = self.workerd_sockets()?;
        siblings
            .into_iter()
            .find(|&(port, _)| {
                let addr = SocketAddr::from(([127, 0, 0, 1], port));
                http_status_within(addr, "/", Duration::from_secs(2)).is_ok_and(|s| s == 200)
            })
            .map(|(port, pid)| (proxy, port, pid))
            .with_context(|| format!("no workerd of the {} worker answers / directly", self.name))
    }

    /// The proxy workerd's pid and the (port, pid) of every other workerd
    /// wrangler started listening on 127.0.0.1: found as the sibling
    /// workerd (same parent); Linux only (`ss`, `/proc`).
    fn workerd_sockets(&self) -> Result<(u32, Vec<(u16, u32)>)> {
        // `ss` is Debian's iproute2: on the machines, installed if missing.
        crate::tools::apt_install(&["iproute2"])?;
        let listening = Cmd::new("ss").args(["-ltnpH"]).read()?;
        // (port, pid) of every workerd listening on 127.0.0.1.
        let sockets: Vec<(u16, u32)> = listening
            .lines()
            .filter(|line| line.contains("\"workerd\""))
            .filter_map(|line| {
                let local = line.split_whitespace().nth(3)?;
                let port = local.strip_prefix("127.0.0.1:")?.parse().ok()?;
                let pid = line.split("pid=").nth(1)?.split(',').next()?.parse().ok()?;
                Some((port, pid))
            })
            .collect();
        let parent = |pid: u32| -> Option<u32> {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // `pid (comm) state ppid …`: comm may hold spaces.
            stat.rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        };
        let proxy = sockets
            .iter()
            .find(|(port, _)| *port == self.addr.port())
            .map(|&(_, pid)| pid)
            .context("no workerd listens on wrangler's port")?;
        let wrangler = parent(proxy).context("the proxy workerd has no parent")?;
        let siblings = sockets
            .into_iter()
            .filter(|&(_, pid)| pid != proxy && parent(pid) == Some(wrangler))
            .collect();
        Ok((proxy, siblings))
    }

    /// Fails if wrangler exited (quoting the end of its log).
    pub fn ensure_running(&mut self) -> Result<()> {
        self.guard.ensure_running()
    }

    /// wrangler listens before workerd serves; waits for a real `200` on `/`.
    pub fn wait_until_serving(&mut self) -> Result<()> {
        let what = format!("wrangler dev ({})", self.name);
        process::wait_for_port(self.addr, READY_TIMEOUT, &what)?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            self.ensure_running()?;
            if http_status(self.addr, "/").is_ok_and(|status| status == 200) {
                return Ok(());
            }
            if Instant::now() >= deadline || process::interrupted() {
                bail!(
                    "the {} worker did not answer on {} within {READY_TIMEOUT:?}",
                    self.name,
                    self.addr
                );
            }
            thread::sleep(Duration::from_millis(300));
        }
    }
}

fn http_status(addr: SocketAddr, path: &str) -> Result<u16> {
    http_status_within(addr, path, Duration::from_secs(10))
}

pub(super) fn http_status_within(addr: SocketAddr, path: &str, wait: Duration) -> Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(wait))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let status = std::str::from_utf8(&head[9..12])?.parse()?;
    Ok(status)
}
