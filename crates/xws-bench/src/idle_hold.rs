//! `xws-bench --connections N` (`cargo xtask bench --connections 100000`): N idle WebSocket
//! connections held at once against each chosen server's echo endpoint, with the server's RSS
//! and the kernel's socket memory per connection. Outside the test command: it takes minutes
//! and raises limits.
//!
//! One loopback address has about 28,000 ephemeral ports (`ip_local_port_range`), so the
//! clients bind their sockets to several source addresses, 127.0.0.1, 127.0.0.2, … (the whole
//! of 127/8 is loopback on Linux). Every client and every server connection is a file, so the
//! runner raises its `RLIMIT_NOFILE` (soft and hard; raising the hard limit needs root or
//! `CAP_SYS_RESOURCE`, up to `fs.nr_open`) and the server inherits it. Nothing else is
//! changed: `somaxconn` already exceeds the handshakes kept in flight.
//!
//! Each client reads its socket in a task of its own, as an idle browser does, so the
//! server's heartbeat pings are answered and no connection is closed for silence while the
//! others are still being opened.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures_util::StreamExt as _;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::load::connect::{CONNECT_CONCURRENCY, ClientProfile, connect_from};
use crate::peers::Peers;
use crate::placement::Placement;
use crate::runner;
use crate::server::RunningServer;

/// Files besides the connections: the runtime, logs, the listener, cargo's pipes.
const SPARE_FILES: u64 = 256;

/// Share of an address's ephemeral ports the clients use, leaving room for anything else on
/// the machine that connects over loopback meanwhile.
const PORT_SHARE: f64 = 0.9;

/// How long the connections sit idle before the second reading.
const SETTLE: Duration = Duration::from_secs(2);

/// Options of a hold run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The workspace root (where `cargo build` runs).
    pub workspace: PathBuf,
    /// Where `idle-hold.json` and `idle-hold.md` go.
    pub out_dir: PathBuf,
    /// Where the JavaScript peers are installed (only when one is asked for).
    pub peers_dir: PathBuf,
    /// Connections to hold.
    pub connections: usize,
    /// Servers to measure, by name.
    pub servers: Vec<String>,
    /// Which CPUs the server and the clients run on.
    pub placement: Placement,
}

/// What one server did with the connections.
#[derive(Debug, Clone, Serialize)]
pub struct Held {
    /// The server's name.
    pub server: String,
    /// Connections asked for.
    pub requested: usize,
    /// Connections still open at the second reading.
    pub held: usize,
    /// Connections that failed to open or closed before the reading.
    pub lost: usize,
    /// Time to open them all.
    pub connect_seconds: f64,
    /// The server's RSS growth per held connection.
    pub rss_bytes_per_conn: f64,
    /// The server's RSS with every connection open.
    pub rss_bytes: u64,
    /// Growth of the kernel's TCP buffer memory (`/proc/net/sockstat`, `TCP: mem`, in pages),
    /// both ends of every connection, per held connection.
    pub tcp_buffer_bytes_per_conn: f64,
    /// Growth of the kernel's slab (`Slab` in `/proc/meminfo`: socket structures, both ends)
    /// per held connection; machine-wide, so other work on the machine adds noise.
    pub kernel_slab_bytes_per_conn: f64,
    /// Growth of `TCP: inuse` in `/proc/net/sockstat` (two per connection on loopback).
    pub tcp_sockets_added: i64,
}

/// What a run changed and found on the machine, for the record.
#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    /// The source addresses the clients bound.
    pub source_addresses: Vec<Ipv4Addr>,
    /// The ephemeral port range (`net.ipv4.ip_local_port_range`).
    pub ephemeral_ports: (u32, u32),
    /// What was done to `RLIMIT_NOFILE`.
    pub open_files: String,
    /// `net.core.somaxconn` (left as it is).
    pub somaxconn: String,
    /// Which CPUs the server and the clients ran on.
    pub placement: Placement,
}

/// The whole run, as written to `idle-hold.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Limits and addresses.
    pub environment: Environment,
    /// One entry per server.
    pub servers: Vec<Held>,
    /// Servers that could not run, and why.
    pub failures: Vec<(String, String)>,
}

/// Raises the limits, builds the servers and holds `options.connections` against each.
pub async fn run(options: &Options) -> anyhow::Result<Report> {
    std::fs::create_dir_all(&options.out_dir)
        .with_context(|| format!("creating {}", options.out_dir.display()))?;
    // The clients here and the server's side of them, in another process: each needs one
    // file per connection.
    let open_files = raise_open_files(options.connections as u64 + SPARE_FILES)?;
    let ephemeral_ports = ephemeral_port_range()?;
    let source_addresses = source_addresses(options.connections, ephemeral_ports);
    let wants_js = options
        .servers
        .iter()
        .any(|name| name == "bun" || name == "crossws-node");
    let peers = if wants_js {
        Peers::install(&options.peers_dir)
    } else {
        Err(anyhow::anyhow!("not needed"))
    };
    let contenders = runner::contenders(&options.workspace, peers.as_ref())?;
    options.placement.pin_load_generator()?;
    let environment = Environment {
        source_addresses,
        ephemeral_ports,
        open_files,
        somaxconn: read_trimmed("/proc/sys/net/core/somaxconn"),
        placement: options.placement.clone(),
    };
    tracing::info!(?environment, "holding {} connections", options.connections);
    let mut report = Report {
        environment,
        servers: Vec::new(),
        failures: Vec::new(),
    };
    for name in &options.servers {
        let Some(contender) = contenders.iter().find(|c| c.name == name) else {
            bail!("unknown server `{name}`");
        };
        let outcome = match &contender.echo {
            Ok(endpoint) => {
                let mut launch = endpoint.launch.clone();
                // The echo example refuses connections past its own limit (50,000).
                launch.env.push((
                    "ECHO_MAX_CONNECTIONS".to_owned(),
                    options.connections.to_string(),
                ));
                hold_one(name, &launch, endpoint.path, options, &report.environment).await
            }
            Err(reason) => Err(anyhow::anyhow!("{reason}")),
        };
        match outcome {
            Ok(held) => {
                tracing::info!(?held, "held");
                report.servers.push(held);
            }
            Err(error) => {
                tracing::warn!(server = %name, "{error:#}");
                report.failures.push((name.clone(), format!("{error:#}")));
            }
        }
    }
    std::fs::write(
        options.out_dir.join("idle-hold.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(options.out_dir.join("idle-hold.md"), report.markdown())?;
    Ok(report)
}

async fn hold_one(
    name: &str,
    launch: &crate::server::Launch,
    path: &str,
    options: &Options,
    environment: &Environment,
) -> anyhow::Result<Held> {
    let log = options.out_dir.join(format!("{name}-idle-hold.log"));
    let server = RunningServer::start_placed(launch, &log, &options.placement).await?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port()));
    let url = format!("ws://{address}{path}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = Reading::take(&server)?;
    let started = Instant::now();
    let clients = open_idle_clients(
        &url,
        address,
        options.connections,
        &environment.source_addresses,
    )
    .await;
    let connect_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let after = Reading::take(&server)?;
    let held = clients.open();
    drop(clients);
    let per_conn = |bytes: i64| bytes as f64 / held.max(1) as f64;
    Ok(Held {
        server: name.to_owned(),
        requested: options.connections,
        held,
        lost: options.connections - held,
        connect_seconds,
        rss_bytes_per_conn: per_conn(after.rss as i64 - before.rss as i64),
        rss_bytes: after.rss,
        tcp_buffer_bytes_per_conn: per_conn(
            (after.tcp_mem_pages - before.tcp_mem_pages) * page_size(),
        ),
        kernel_slab_bytes_per_conn: per_conn((after.slab_kib - before.slab_kib) * 1024),
        tcp_sockets_added: after.tcp_inuse - before.tcp_inuse,
    })
}

/// Clients reading their sockets in tasks of their own; dropping this closes them all.
struct IdleClients {
    tasks: JoinSet<()>,
    open: Arc<AtomicUsize>,
}

impl IdleClients {
    /// Clients whose connection is open now.
    fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
}

/// Opens `count` connections, spread round-robin over `sources`, at most
/// [`CONNECT_CONCURRENCY`] handshakes at once, and returns when every attempt has finished.
async fn open_idle_clients(
    url: &str,
    server: SocketAddr,
    count: usize,
    sources: &[Ipv4Addr],
) -> IdleClients {
    let permits = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let open = Arc::new(AtomicUsize::new(0));
    let (attempted, mut attempts) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut tasks = JoinSet::new();
    for index in 0..count {
        let permits = Arc::clone(&permits);
        let open = Arc::clone(&open);
        let attempted = attempted.clone();
        let url = url.to_owned();
        let source = sources[index % sources.len()];
        tasks.spawn(async move {
            let Ok(permit) = permits.acquire_owned().await else {
                return;
            };
            let connected = connect_from(&url, server, source, ClientProfile::Many).await;
            drop(permit);
            let _ = attempted.send(());
            // The count below ends when every attempt has dropped its sender.
            drop(attempted);
            let mut client = match connected {
                Ok(client) => client,
                Err(error) => {
                    tracing::debug!("{error:#}");
                    return;
                }
            };
            open.fetch_add(1, Ordering::Relaxed);
            // Reading answers the server's pings; the loop ends when the connection does.
            while let Some(Ok(_)) = client.next().await {}
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
    drop(attempted);
    let mut finished = 0;
    while attempts.recv().await.is_some() {
        finished += 1;
        if finished % 10_000 == 0 {
            tracing::info!(finished, open = open.load(Ordering::Relaxed), "connecting");
        }
    }
    IdleClients { tasks, open }
}

impl Drop for IdleClients {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

/// The server's and the kernel's memory at one moment.
#[derive(Debug, Clone, Copy)]
struct Reading {
    rss: u64,
    tcp_mem_pages: i64,
    tcp_inuse: i64,
    slab_kib: i64,
}

impl Reading {
    fn take(server: &RunningServer) -> anyhow::Result<Self> {
        let sockstat = std::fs::read_to_string("/proc/net/sockstat")?;
        let (tcp_inuse, tcp_mem_pages) = parse_sockstat_tcp(&sockstat)?;
        let meminfo = std::fs::read_to_string("/proc/meminfo")?;
        let slab_kib = meminfo
            .lines()
            .find_map(|line| line.strip_prefix("Slab:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no Slab line in /proc/meminfo")?;
        Ok(Self {
            rss: server.rss_bytes()?,
            tcp_mem_pages,
            tcp_inuse,
            slab_kib,
        })
    }
}

/// `inuse` and `mem` (pages) of the `TCP:` line of `/proc/net/sockstat`.
fn parse_sockstat_tcp(sockstat: &str) -> anyhow::Result<(i64, i64)> {
    let line = sockstat
        .lines()
        .find_map(|line| line.strip_prefix("TCP:"))
        .context("no TCP line in /proc/net/sockstat")?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let field = |name: &str| -> anyhow::Result<i64> {
        let at = words
            .iter()
            .position(|word| *word == name)
            .with_context(|| format!("no `{name}` in the TCP line of /proc/net/sockstat"))?;
        Ok(words.get(at + 1).context("short TCP line")?.parse()?)
    };
    Ok((field("inuse")?, field("mem")?))
}

/// The kernel's page size, the unit of `/proc/net/sockstat`'s `mem` (4 KiB on x86_64 and the
/// arm64 kernels the project runs on; `getconf` asks when it is there).
fn page_size() -> i64 {
    std::process::Command::new("getconf")
        .arg("PAGESIZE")
        .output()
        .ok()
        .and_then(|output| String::from_utf8_lossy(&output.stdout).trim().parse().ok())
        .unwrap_or(4096)
}

/// Raises `RLIMIT_NOFILE` to `wanted` (soft, and hard when it is lower), for this process and
/// the servers it starts; says what it did.
fn raise_open_files(wanted: u64) -> anyhow::Result<String> {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    if soft >= wanted {
        return Ok(format!(
            "RLIMIT_NOFILE {soft} already ≥ {wanted}: unchanged"
        ));
    }
    let new_hard = hard.max(wanted);
    rlimit::setrlimit(rlimit::Resource::NOFILE, wanted, new_hard).with_context(|| {
        format!(
            "raising RLIMIT_NOFILE to {wanted} (hard {hard}): a hard limit above the current one \
             needs CAP_SYS_RESOURCE (root in a container may lack it) and at most fs.nr_open \
             ({}); at most {} connections fit under this hard limit",
            read_trimmed("/proc/sys/fs/nr_open"),
            hard.saturating_sub(SPARE_FILES)
        )
    })?;
    Ok(format!(
        "RLIMIT_NOFILE raised with setrlimit from soft {soft} / hard {hard} to soft {wanted} / \
         hard {new_hard}, inherited by the server"
    ))
}

/// `net.ipv4.ip_local_port_range`.
fn ephemeral_port_range() -> anyhow::Result<(u32, u32)> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")?;
    let mut bounds = text.split_whitespace().map(str::parse::<u32>);
    match (bounds.next(), bounds.next()) {
        (Some(Ok(low)), Some(Ok(high))) if low <= high => Ok((low, high)),
        _ => bail!("cannot read ip_local_port_range: {text:?}"),
    }
}

/// Enough loopback addresses, from 127.0.0.1 up, for `connections` with [`PORT_SHARE`] of
/// each address's ephemeral ports.
fn source_addresses(connections: usize, (low, high): (u32, u32)) -> Vec<Ipv4Addr> {
    let per_address = ((f64::from(high - low + 1) * PORT_SHARE) as usize).max(1);
    let count = connections.div_ceil(per_address).clamp(1, 254);
    (1..=count as u8)
        .map(|last| Ipv4Addr::new(127, 0, 0, last))
        .collect()
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

impl Report {
    /// The run as markdown: the environment, then one row per server.
    pub fn markdown(&self) -> String {
        let env = &self.environment;
        let sources: Vec<String> = env
            .source_addresses
            .iter()
            .map(ToString::to_string)
            .collect();
        let mut out = format!(
            "- client source addresses: {} (ephemeral ports {}-{})\n- open files: {}\n\
             - net.core.somaxconn: {} (unchanged)\n- CPUs: {}\n\n\
             | server | held / asked | lost | connect (s) | server RSS | RSS per conn | \
             TCP buffers per conn (sockstat) | kernel slab per conn | TCP sockets added |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
            sources.join(", "),
            env.ephemeral_ports.0,
            env.ephemeral_ports.1,
            env.open_files,
            env.somaxconn,
            env.placement,
        );
        for held in &self.servers {
            let _ = writeln!(
                out,
                "| {} | {} / {} | {} | {:.1} | {:.0} MiB | {:.0} B | {:.0} B | {:.0} B | {} |",
                held.server,
                held.held,
                held.requested,
                held.lost,
                held.connect_seconds,
                held.rss_bytes as f64 / (1024.0 * 1024.0),
                held.rss_bytes_per_conn,
                held.tcp_buffer_bytes_per_conn,
                held.kernel_slab_bytes_per_conn,
                held.tcp_sockets_added,
            );
        }
        for (server, reason) in &self.failures {
            let _ = writeln!(out, "\n- {server}: {reason}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockstat_tcp_fields_are_read_by_name() {
        let sockstat = "sockets: used 41\nTCP: inuse 12 orphan 0 tw 2 alloc 15 mem 7\n";
        assert_eq!(parse_sockstat_tcp(sockstat).unwrap(), (12, 7));
        assert!(parse_sockstat_tcp("sockets: used 1\n").is_err());
    }

    #[test]
    fn enough_source_addresses_for_the_ports() {
        let linux_default = (32768, 60999);
        assert_eq!(source_addresses(10_000, linux_default).len(), 1);
        let four = source_addresses(100_000, linux_default);
        assert_eq!(
            four,
            [1, 2, 3, 4].map(|last| Ipv4Addr::new(127, 0, 0, last))
        );
    }
}
