//! Running commands so that nothing can stall CI: every command has a
//! timeout, runs in its own process group, and is killed with its children
//! when it times out, when `cargo xtask` is interrupted, or when its guard
//! is dropped.

use std::ffi::OsStr;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::os::unix::process::CommandExt as _;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// How often waits look at the clock and at Ctrl-C.
const TICK: Duration = Duration::from_millis(200);

/// Makes Ctrl-C and SIGTERM stop the running command (and its process
/// group) instead of leaving it behind; a second signal exits at once.
pub fn install_interrupt_handler() -> Result<()> {
    ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    })
    .context("installing the Ctrl-C handler")
}

/// Where the search for free ports goes on from, across calls, so that two
/// calls never hand out the same port.
static NEXT_PORT: AtomicU32 = AtomicU32::new(0);

/// The lowest port [`free_ports`] hands out: above the machines' services
/// (Redis, PostgreSQL, NATS and the like all listen below it).
const LOWEST_FREE_PORT: u16 = 15_000;

/// `count` distinct loopback ports that nothing listens on right now, for
/// servers a step starts.
///
/// They are chosen below the kernel's ephemeral range: a port from
/// `bind(0)` lies inside it, where the kernel may give it to any other
/// socket (another workerd's listener, an outgoing connection) in the
/// seconds before our server binds it; CI saw `wrangler dev` exit for
/// that. Each process starts at its own offset, so xtask runs side by side
/// seldom probe the same ports.
pub fn free_ports(count: usize) -> Result<Vec<u16>> {
    let highest = ephemeral_range_start().unwrap_or(32_768);
    let span = u32::from(highest.saturating_sub(LOWEST_FREE_PORT).max(1));
    let base = std::process::id().wrapping_mul(7_919);
    let mut ports = Vec::with_capacity(count);
    // Held until all are found, so that none is counted twice.
    let mut listeners = Vec::with_capacity(count);
    for _ in 0..span {
        let offset = base.wrapping_add(NEXT_PORT.fetch_add(1, Ordering::Relaxed)) % span;
        let port = LOWEST_FREE_PORT + u16::try_from(offset).expect("span fits in u16");
        if let Ok(listener) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            listeners.push(listener);
            ports.push(port);
            if ports.len() == count {
                return Ok(ports);
            }
        }
    }
    bail!("fewer than {count} free loopback ports between {LOWEST_FREE_PORT} and {highest}")
}

/// One port from [`free_ports`].
pub fn free_port() -> Result<u16> {
    Ok(free_ports(1)?[0])
}

/// The first port of the kernel's ephemeral range (Linux).
fn ephemeral_range_start() -> Option<u16> {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Whether Ctrl-C or SIGTERM arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// A command with a timeout and a readable name for errors.
pub struct Cmd {
    command: Command,
    timeout: Duration,
    log: Option<std::path::PathBuf>,
}

impl Cmd {
    /// `program` with a 10-minute timeout until [`Cmd::timeout`] says otherwise.
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let mut command = Command::new(program);
        // Its own process group, so a timeout kills the test binaries or
        // servers it started too, not only the direct child.
        command.process_group(0).stdin(Stdio::null());
        Cmd {
            command,
            timeout: Duration::from_secs(600),
            log: None,
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        self.command.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Sets the working directory.
    pub fn current_dir(mut self, dir: impl AsRef<std::path::Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Writes the command's stdout and stderr to `log` instead of the
    /// terminal (for a background build whose output would interleave).
    pub fn output_to(mut self, log: &std::path::Path) -> Result<Self> {
        let file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        self.command.stdout(file.try_clone()?).stderr(file);
        Ok(self)
    }

    /// Kills the command when it runs longer than `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the command with inherited output; fails when it exits non-zero,
    /// times out or is interrupted.
    pub fn run(self) -> Result<()> {
        let name = self.to_string();
        let output = self.wait(false)?;
        check_status(&name, output.status)
    }

    /// Runs the command and returns its stdout; fails like [`Cmd::run`].
    pub fn read(self) -> Result<String> {
        let name = self.to_string();
        let output = self.wait(true)?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!("`{name}` failed ({}): {}", output.status, stderr.trim());
        }
        String::from_utf8(output.stdout).with_context(|| format!("`{name}` printed non-UTF-8"))
    }

    /// Runs the command and tells only whether it succeeded (for probes
    /// such as `dpkg -s`); output is discarded.
    pub fn succeeds(mut self) -> bool {
        self.command.stdout(Stdio::null()).stderr(Stdio::null());
        self.wait(false).is_ok_and(|output| output.status.success())
    }

    /// A spawned command's output (stdout and stderr, line by line) also
    /// goes to the file `log`, which tests read: what a server logged.
    pub fn log_to(mut self, log: impl Into<std::path::PathBuf>) -> Self {
        self.log = Some(log.into());
        self
    }

    /// Starts the command in the background; it is killed when the guard drops.
    pub fn spawn(mut self) -> Result<ChildGuard> {
        let name = self.to_string();
        if self.log.is_some() {
            self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        let mut child = self
            .command
            .spawn()
            .with_context(|| format!("could not start `{name}`: is it installed?"))?;
        if let Some(path) = &self.log {
            tee(&mut child, path)?;
        }
        Ok(ChildGuard {
            child,
            name,
            log: self.log,
        })
    }

    fn wait(mut self, capture: bool) -> Result<Output> {
        let name = self.to_string();
        if capture {
            self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        let child = self
            .command
            .spawn()
            .with_context(|| format!("could not start `{name}`: is it installed?"))?;
        let group = pid_of(&child);
        // A thread owns the child so that pipes are drained while we watch
        // the clock; the group is killed from here on timeout.
        let (done, finished) = mpsc::channel();
        thread::spawn(move || done.send(child.wait_with_output()));
        let deadline = Instant::now() + self.timeout;
        loop {
            match finished.recv_timeout(TICK) {
                Ok(output) => return output.with_context(|| format!("waiting for `{name}`")),
                Err(mpsc::RecvTimeoutError::Disconnected) => bail!("lost track of `{name}`"),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if interrupted() {
                kill_group(group);
                bail!("`{name}` was interrupted (killed)");
            }
            if Instant::now() >= deadline {
                kill_group(group);
                bail!(
                    "`{name}` timed out after {} s and was killed",
                    self.timeout.as_secs()
                );
            }
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.command.get_program().to_string_lossy())?;
        for arg in self.command.get_args() {
            write!(f, " {}", arg.to_string_lossy())?;
        }
        Ok(())
    }
}

/// Copies the child's stdout and stderr, line by line, to our stderr and
/// to the file `path` (created anew).
fn tee(child: &mut Child, path: &std::path::Path) -> Result<()> {
    use std::io::{BufRead as _, BufReader, Write as _};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::File::create(path)
        .with_context(|| format!("creating the log {}", path.display()))?;
    let file = std::sync::Arc::new(std::sync::Mutex::new(file));
    let outputs: [Option<Box<dyn std::io::Read + Send>>; 2] = [
        child.stdout.take().map(|out| Box::new(out) as _),
        child.stderr.take().map(|err| Box::new(err) as _),
    ];
    for output in outputs.into_iter().flatten() {
        let file = std::sync::Arc::clone(&file);
        thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                eprintln!("{line}");
                let mut file = file
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // A full disk loses log lines, not the run.
                let _ = writeln!(file, "{line}").and_then(|()| file.flush());
            }
        });
    }
    Ok(())
}

fn check_status(name: &str, status: ExitStatus) -> Result<()> {
    if status.success() {
        Ok(())
    } else {
        bail!("`{name}` failed ({status})")
    }
}

fn pid_of(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).expect("process ids fit in i32"))
}

fn kill_group(group: Pid) {
    // ESRCH (already gone) is the only expected error and needs no action.
    let _ = killpg(group, Signal::SIGKILL);
}

/// A background process (a server for the tests) that is killed, with its
/// process group, when the guard is dropped: on success, on error and on
/// unwinding alike.
pub struct ChildGuard {
    child: Child,
    name: String,
    /// The file its output also goes to ([`Cmd::log_to`]).
    log: Option<std::path::PathBuf>,
}

/// How much of a server's log an early exit quotes.
const LOG_TAIL_LINES: usize = 15;

impl ChildGuard {
    /// The process id (of the process group's leader).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Fails when the process already exited (it could not bind its port,
    /// for instance), naming the command and its exit status, and quoting
    /// the end of its log when it has one: CI keeps only the end of a run's
    /// output, where the server's own lines are long gone.
    pub fn ensure_running(&mut self) -> Result<()> {
        let Some(status) = self.child.try_wait()? else {
            return Ok(());
        };
        let Some(log) = &self.log else {
            bail!("`{}` exited early ({status})", self.name);
        };
        let printed = std::fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = printed.lines().collect();
        let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
        bail!(
            "`{}` exited early ({status}); the last lines of {}:\n{tail}",
            self.name,
            log.display()
        )
    }
}

impl ChildGuard {
    /// Waits for the process to exit; fails when it exits non-zero, runs
    /// past `timeout` or the run is interrupted (it is killed then).
    pub fn finish(mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return check_status(&self.name, status);
            }
            if interrupted() {
                bail!("`{}` was interrupted (killed)", self.name);
            }
            if Instant::now() >= deadline {
                bail!(
                    "`{}` timed out after {} s and was killed",
                    self.name,
                    timeout.as_secs()
                );
            }
            thread::sleep(TICK);
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        kill_group(pid_of(&self.child));
        let _ = self.child.wait();
    }
}

/// Whether something accepts TCP connections at `addr` right now.
pub fn port_is_open(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// Waits until `addr` accepts TCP connections; `what` names the server in
/// the error.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration, what: &str) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while !port_is_open(addr) {
        if interrupted() {
            bail!("interrupted while waiting for {what} on {addr}");
        }
        if Instant::now() >= deadline {
            bail!(
                "{what} did not listen on {addr} within {} s",
                timeout.as_secs()
            );
        }
        thread::sleep(TICK);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hung_command_is_killed_at_its_timeout() {
        let started = Instant::now();
        let error = Cmd::new("sleep")
            .arg("30")
            .timeout(Duration::from_millis(300))
            .run()
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            error.to_string().contains("`sleep 30` timed out"),
            "{error}"
        );
    }

    #[test]
    fn a_failing_command_is_named_in_the_error() {
        let error = Cmd::new("false").run().unwrap_err();
        assert!(error.to_string().starts_with("`false` failed"), "{error}");
    }

    #[test]
    fn read_returns_stdout() {
        assert_eq!(Cmd::new("echo").arg("hi").read().unwrap(), "hi\n");
    }

    #[test]
    fn an_early_exit_quotes_the_end_of_the_log() {
        let log = std::env::temp_dir().join(format!("xtask-early-exit-{}.log", std::process::id()));
        let mut guard = Cmd::new("sh")
            .args(["-c", "for i in $(seq 1 40); do echo line $i; done; exit 3"])
            .log_to(&log)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let error = loop {
            // The log is complete once the tee threads read to the end
            // ("line 40" is not in the command, which the error names too).
            if let Err(error) = guard.ensure_running()
                && error.to_string().contains("line 40")
            {
                break error.to_string();
            }
            assert!(Instant::now() < deadline, "no early exit quoting the log");
            thread::sleep(Duration::from_millis(20));
        };
        assert!(error.contains("exited early (exit status: 3)"), "{error}");
        // Only the end: line 40 and the ones before it, not the first ones.
        assert!(
            error.contains("line 40") && !error.contains("line 1\n"),
            "{error}"
        );
        let _ = std::fs::remove_file(log);
    }

    #[test]
    fn dropping_the_guard_kills_the_process_group() {
        // The shell's child (`sleep`) is in the same group and must die too.
        let guard = Cmd::new("sh")
            .args(["-c", "sleep 60 & wait"])
            .spawn()
            .unwrap();
        let group = pid_of(&guard.child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while live_members(group) < 2 {
            assert!(Instant::now() < deadline, "sh never started sleep");
            thread::sleep(Duration::from_millis(20));
        }
        drop(guard);
        // The orphaned `sleep` is reaped by init whenever it gets to it; a
        // zombie is dead already, so only live members count.
        let deadline = Instant::now() + Duration::from_secs(5);
        while live_members(group) > 0 {
            assert!(Instant::now() < deadline, "process group still alive");
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Processes of `group` that are not zombies, read from /proc.
    fn live_members(group: Pid) -> usize {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("stat")).ok())
            .filter(|stat| {
                // Fields after the parenthesized command: state, ppid, pgrp.
                let fields: Vec<&str> = stat
                    .rsplit_once(')')
                    .map_or("", |(_, rest)| rest)
                    .split_whitespace()
                    .collect();
                fields.get(2) == Some(&group.as_raw().to_string().as_str()) && fields[0] != "Z"
            })
            .count()
    }

    #[test]
    fn waiting_for_a_closed_port_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let error = wait_for_port(addr, Duration::from_millis(300), "nothing").unwrap_err();
        assert!(error.to_string().contains("did not listen"), "{error}");
    }
}
