//! Where the server under test and the load generator run: pinned to separate CPUs when the
//! machine has two or more, so that a latency such as fan-out's p99 measures the server rather
//! than the two processes taking turns on the same cores.
//!
//! Pinning uses util-linux's `taskset` (the server is started through it; the runner pins all
//! of its own threads with `taskset -a -p`): the crate forbids `unsafe`, and a tool every
//! Linux machine of the project has is simpler than an affinity crate for two calls.

use std::fmt;
use std::process::Command;

use anyhow::{Context as _, bail};
use serde::Serialize;

/// The CPUs of one run: the server on one, the load generator on another, or both free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Placement {
    /// The server on `server_cpu`, every thread of the runner (the load generator) on
    /// `load_cpu`.
    Pinned {
        /// The CPU the server runs on.
        server_cpu: usize,
        /// The CPU the load generator runs on.
        load_cpu: usize,
    },
    /// Both on every CPU the scheduler gives them, and why.
    Shared {
        /// Why the run is not pinned.
        reason: String,
    },
}

impl Placement {
    /// Pins when asked and possible: the first two CPUs this process may run on, server on the
    /// first. Falls back to [`Placement::Shared`] (with the reason) on one CPU or without
    /// `taskset`.
    pub fn choose(pin: bool) -> Self {
        if !pin {
            return Self::Shared {
                reason: "--no-pin".to_owned(),
            };
        }
        let cpus = match allowed_cpus() {
            Ok(cpus) => cpus,
            Err(error) => {
                return Self::Shared {
                    reason: format!("allowed CPUs unknown: {error:#}"),
                };
            }
        };
        let [server_cpu, load_cpu, ..] = cpus[..] else {
            return Self::Shared {
                reason: format!("only {} CPU allowed", cpus.len()),
            };
        };
        if Command::new("taskset").arg("--version").output().is_err() {
            return Self::Shared {
                reason: "`taskset` (util-linux) not found".to_owned(),
            };
        }
        Self::Pinned {
            server_cpu,
            load_cpu,
        }
    }

    /// Moves every thread of this process (the load generator) to its CPU; a no-op when
    /// shared. Threads started later inherit the mask from the thread that starts them.
    pub fn pin_load_generator(&self) -> anyhow::Result<()> {
        let Self::Pinned { load_cpu, .. } = self else {
            return Ok(());
        };
        let status = Command::new("taskset")
            .args(["-a", "-c", "-p", &load_cpu.to_string()])
            .arg(std::process::id().to_string())
            .stdout(std::process::Stdio::null())
            .status()
            .context("running taskset")?;
        if !status.success() {
            bail!("taskset -a -c -p {load_cpu} failed ({status})");
        }
        Ok(())
    }

    /// The command that starts `program` on the server's CPU: `program` itself when shared,
    /// `taskset -c CPU program` when pinned (taskset execs it, so the pid stays the server's).
    pub fn server_command(&self, program: &std::path::Path) -> Command {
        match self {
            Self::Pinned { server_cpu, .. } => {
                let mut command = Command::new("taskset");
                command.args(["-c", &server_cpu.to_string()]).arg(program);
                command
            }
            Self::Shared { .. } => Command::new(program),
        }
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pinned {
                server_cpu,
                load_cpu,
            } => write!(
                f,
                "pinned: server on CPU {server_cpu}, load generator on CPU {load_cpu} (taskset)"
            ),
            Self::Shared { reason } => write!(f, "not pinned ({reason}): both share every CPU"),
        }
    }
}

/// The CPUs this process may run on, from `Cpus_allowed_list` in `/proc/self/status`.
fn allowed_cpus() -> anyhow::Result<Vec<usize>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let list = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .context("no Cpus_allowed_list in /proc/self/status")?;
    parse_cpu_list(list.trim())
}

/// Parses a kernel CPU list such as `0-3,8,10-11`.
fn parse_cpu_list(list: &str) -> anyhow::Result<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in list.split(',').filter(|part| !part.is_empty()) {
        match part.split_once('-') {
            Some((first, last)) => cpus.extend(first.parse::<usize>()?..=last.parse::<usize>()?),
            None => cpus.push(part.parse()?),
        }
    }
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_expand_ranges() {
        assert_eq!(parse_cpu_list("0-1").unwrap(), vec![0, 1]);
        assert_eq!(parse_cpu_list("0,2-4,7").unwrap(), vec![0, 2, 3, 4, 7]);
        assert!(parse_cpu_list("a-b").is_err());
    }

    #[test]
    fn placement_says_where_each_side_runs() {
        let pinned = Placement::Pinned {
            server_cpu: 0,
            load_cpu: 1,
        };
        assert_eq!(
            pinned.to_string(),
            "pinned: server on CPU 0, load generator on CPU 1 (taskset)"
        );
        let json = serde_json::to_value(&pinned).unwrap();
        assert_eq!(json["mode"], "pinned");
        assert_eq!(json["server_cpu"], 0);
        assert!(matches!(Placement::choose(false), Placement::Shared { .. }));
    }
}
