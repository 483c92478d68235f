//! What machine a run was on, for the record next to its numbers.

use std::fmt::Write as _;
use std::process::Command;

/// A description of the machine and the tools of a run.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// Logical cores available.
    pub cores: usize,
    /// Total memory.
    pub memory: String,
    /// Kernel release.
    pub kernel: String,
    /// Versions of the runtimes involved.
    pub tools: Vec<(String, String)>,
}

impl Machine {
    /// Reads the machine from `/proc` and asks each tool its version.
    pub fn describe() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |text: &str, name: &str| {
            text.lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split(':').nth(1))
                .map(|value| value.trim().to_owned())
                .unwrap_or_else(|| "unknown".to_owned())
        };
        let tools = [("rustc", "rustc"), ("node", "node")]
            .into_iter()
            .map(|(name, program)| (name.to_owned(), version_of(program)))
            .collect();
        Self {
            cpu: field(&cpuinfo, "model name"),
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            memory: field(&meminfo, "MemTotal"),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
            tools,
        }
    }

    /// The description as a markdown list.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "- CPU: {} ({} logical cores)\n- memory: {}\n- kernel: {}\n",
            self.cpu, self.cores, self.memory, self.kernel
        );
        for (tool, version) in &self.tools {
            let _ = writeln!(out, "- {tool}: {version}");
        }
        out
    }
}

/// The 1-minute load average: other work on the machine skews every number.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn version_of(program: &str) -> String {
    Command::new(program)
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .unwrap_or_else(|| "not found".to_owned())
}
