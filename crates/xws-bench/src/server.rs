//! Starting a server under test as a child process, and always stopping it.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::placement::Placement;

/// How to start one server process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Working directory (for the JS peers: where their `node_modules` is).
    pub cwd: Option<PathBuf>,
    /// Environment variables besides the runner's own.
    pub env: Vec<(String, String)>,
}

/// Time a server gets to start listening.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// `sysconf(_SC_CLK_TCK)`, 100 on every Linux the bench runs on.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// A running server; killed when dropped, so no path out of the runner leaves one behind.
#[derive(Debug)]
pub struct RunningServer {
    child: Child,
    port: u16,
}

impl RunningServer {
    /// Starts `launch` on a free loopback port (given as `PORT`, with `HOST=127.0.0.1`) and
    /// waits until it accepts TCP connections. Output goes to `log`.
    pub async fn start(launch: &Launch, log: &Path) -> anyhow::Result<Self> {
        let anywhere = Placement::Shared {
            reason: "not asked".to_owned(),
        };
        Self::start_placed(launch, log, &anywhere).await
    }

    /// [`RunningServer::start`] on the server's CPU of `placement`.
    pub async fn start_placed(
        launch: &Launch,
        log: &Path,
        placement: &Placement,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let output = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = placement.server_command(&launch.program);
        command
            .args(&launch.args)
            .env("PORT", port.to_string())
            .env("HOST", "127.0.0.1")
            .env("RUST_LOG", "warn")
            // The peers have no per-connection rate limit; the chat-room
            // clients send above the chat's default 1,000 messages/s.
            .env("CHAT_RATE_LIMIT", "off")
            .envs(launch.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output);
        if let Some(cwd) = &launch.cwd {
            command.current_dir(cwd);
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", launch.program.display()))?;
        let mut server = Self { child, port };
        server.wait_listening(log).await?;
        Ok(server)
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the server has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait()? {
            Some(status) => bail!("the server exited with {status}"),
            None => Ok(()),
        }
    }

    /// The server's resident memory, from `/proc/PID/status` (VmRSS).
    pub fn rss_bytes(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS line in /proc/PID/status")?;
        Ok(kib * 1024)
    }

    /// CPU time the server has used so far (user + system), from `/proc/PID/stat`.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        process_cpu_time(self.pid())
    }

    async fn wait_listening(&mut self, log: &Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "server exited with {status} before listening; see {}",
                    log.display()
                );
            }
            if tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "server did not listen within {START_TIMEOUT:?}; see {}",
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time process `pid` has used so far (user + system), from `/proc/PID/stat`: how the
/// benchmarks measure servers they did not start too (workerd, a Lambda function).
pub fn process_cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    cpu_time_of_stat(&stat)
}

/// User + system time of a `/proc/PID/stat` line.
fn cpu_time_of_stat(stat: &str) -> anyhow::Result<Duration> {
    // Fields after the command name (which may hold spaces and parentheses) start after the
    // last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |index: usize| -> anyhow::Result<u64> {
        Ok(fields.get(index).context("short /proc/PID/stat")?.parse()?)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(
        total as f64 / CLOCK_TICKS_PER_SECOND,
    ))
}

/// A port free right now on 127.0.0.1 (the kernel picks it).
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_adds_user_and_system_ticks_after_the_name() {
        // A command name with a space and a ')' in it, utime 250 and stime 50 ticks.
        let stat = "4242 (work erd) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0";
        assert_eq!(
            cpu_time_of_stat(stat).unwrap(),
            Duration::from_secs_f64(3.0)
        );
    }

    #[test]
    fn a_short_stat_line_is_an_error() {
        assert!(cpu_time_of_stat("4242 (workerd) S 1 2").is_err());
    }

    #[test]
    fn this_process_cpu_time_grows_while_it_spins() {
        let before = process_cpu_time(std::process::id()).unwrap();
        // Ticks are 10 ms and the machine is shared: spin until one is counted, or give up.
        let spin = Instant::now();
        let mut after = before;
        while after <= before && spin.elapsed() < Duration::from_secs(10) {
            after = process_cpu_time(std::process::id()).unwrap();
        }
        assert!(after > before, "no CPU counted in 10 s of spinning");
    }
}
