//! The other targets measured (issue 18, goal 5): the chat on Cloudflare (workerd under
//! `wrangler dev`) and on AWS (the local stack: moto, cargo lambda's runtime API, the API
//! Gateway emulator), driven by the same load clients as the Tokio benchmark.
//!
//! `cargo xtask bench-targets` starts the servers and runs the bin `xws-bench-targets` once per
//! part; each run fills its part of [`TargetsReport`] in `targets.json` and writes
//! `targets.md` from all of it. [`cost`] turns the calls counted per publication into dollars.

pub mod cost;

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::load::stats::Outcome;
use cost::{CostEstimate, PublicationCalls};

/// Everything `cargo xtask bench-targets` measured; a part not run yet is `None`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TargetsReport {
    /// The Cloudflare part.
    pub cloudflare: Option<CloudflareReport>,
    /// The AWS part.
    pub aws: Option<AwsReport>,
}

/// The chat worker under workerd.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CloudflareReport {
    /// Start-up times.
    pub cold: Option<CloudflareColdStart>,
    /// One row per load.
    pub loads: Vec<TargetLoad>,
    /// Join of a room no one has joined yet, in the warm object (median, ms).
    pub new_room_join_ms: Option<f64>,
    /// Join of a room others are in, in the warm object (median, ms).
    pub known_room_join_ms: Option<f64>,
}

/// Start-up of `wrangler dev` and of the chat's Durable Object.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct CloudflareColdStart {
    /// From starting `wrangler dev` to the first `200` on `/` (the Worker entry answering).
    pub spawn_to_serving_ms: f64,
    /// The first WebSocket after that, opened and welcomed: the Durable Object's first
    /// request.
    pub first_websocket_ms: f64,
    /// A WebSocket opened and welcomed by the warm object (median of several).
    pub warm_websocket_ms: f64,
}

/// One load against one target: what was sent and delivered, latency, and CPU by process.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TargetLoad {
    /// What ran (`chat-room 8 clients`, `fanout 1000`).
    pub scenario: String,
    /// Messages the clients sent (publications for a fan-out).
    pub sent: u64,
    /// Messages delivered to clients.
    pub delivered: u64,
    /// Deliveries (or connections) expected and never seen.
    pub lost: u64,
    /// Median latency (fan-out: until the last subscriber has it).
    pub p50_ms: Option<f64>,
    /// 99th percentile latency.
    pub p99_ms: Option<f64>,
    /// CPU time (user + system) of each measured process during the load, ms.
    pub cpu_ms: Vec<ProcessCpu>,
}

/// CPU time one process used during a load.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProcessCpu {
    /// Which process (`worker workerd`, `proxy workerd`, `ws function`).
    pub process: String,
    /// User + system time, ms.
    pub ms: f64,
}

impl TargetLoad {
    /// A row from a load's outcome, `sent` messages and the CPU each process used.
    pub fn new(scenario: String, sent: u64, outcome: &Outcome, cpu_ms: Vec<ProcessCpu>) -> Self {
        Self {
            scenario,
            sent,
            delivered: outcome.delivered,
            lost: outcome.lost,
            p50_ms: outcome.latencies.quantile_ms(0.5),
            p99_ms: outcome.latencies.quantile_ms(0.99),
            cpu_ms,
        }
    }

    /// CPU µs per message sent and per delivery of `process`, `None` without any.
    pub fn cpu_us_per(&self, process: &str) -> Option<(f64, f64)> {
        let cpu = self.cpu_ms.iter().find(|cpu| cpu.process == process)?;
        let per = |count: u64| (count > 0).then(|| cpu.ms * 1000.0 / count as f64);
        Some((per(self.sent)?, per(self.delivered)?))
    }
}

/// The chat's ws function through the local AWS stack.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AwsReport {
    /// The function's memory (template.yaml), which prices its duration.
    pub memory_mb: u32,
    /// One row per subscriber count.
    pub fanout: Vec<AwsFanout>,
    /// Start-up of the function.
    pub cold: Option<AwsColdStart>,
}

/// Publications to `subscribers` through the ws function.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AwsFanout {
    /// Subscribers in the room (the publisher besides).
    pub subscribers: usize,
    /// Loss, latency and CPU of the run.
    pub load: TargetLoad,
    /// Calls per publication, counted by moto and the emulator.
    pub calls: PublicationCalls,
    /// The estimate from [`AwsFanout::calls`], at the p50 latency as the invocation's duration.
    pub cost: CostEstimate,
}

/// Start-up of the ws function through the emulator: a `$connect` answered.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AwsColdStart {
    /// From starting a fresh bootstrap (a client connecting at once) to the WebSocket opened
    /// and welcomed.
    pub cold_connect_ms: f64,
    /// The same with the warm function (median of several).
    pub warm_connect_ms: f64,
    /// The bootstrap measured.
    pub binary: String,
    /// Its size.
    pub binary_bytes: u64,
}

impl TargetsReport {
    /// Reads `path`, or an empty report when it does not exist.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(json) => {
                serde_json::from_str(&json).with_context(|| format!("parsing {}", path.display()))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes `path` (JSON) and the markdown beside it (`.md`).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)?)?;
        std::fs::write(path.with_extension("md"), self.markdown())?;
        Ok(())
    }

    /// The tables.
    pub fn markdown(&self) -> String {
        let mut md = String::from("# Other targets (issue 18, goal 5)\n\n");
        if let Some(cloudflare) = &self.cloudflare {
            cloudflare.markdown(&mut md);
        }
        if let Some(aws) = &self.aws {
            aws.markdown(&mut md);
        }
        md
    }
}

/// `1.23` or `-`.
fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

impl CloudflareReport {
    /// The processes whose CPU is measured, in column order.
    pub const WORKER: &'static str = "worker workerd";
    /// wrangler's proxy.
    pub const PROXY: &'static str = "proxy workerd";

    fn markdown(&self, md: &mut String) {
        md.push_str("## Cloudflare: the chat worker under workerd (`wrangler dev --local`)\n\n");
        if let Some(cold) = &self.cold {
            let _ = writeln!(
                md,
                "| start-up | ms |\n|---|---:|\n\
                 | `wrangler dev` started → first `200` on `/` (Worker entry) | {:.0} |\n\
                 | first WebSocket then, opened and welcomed (the Durable Object's first request) | {:.1} |\n\
                 | WebSocket opened and welcomed, warm object (median of 7) | {:.1} |",
                cold.spawn_to_serving_ms, cold.first_websocket_ms, cold.warm_websocket_ms
            );
            if let (Some(new), Some(known)) = (self.new_room_join_ms, self.known_room_join_ms) {
                let _ = writeln!(
                    md,
                    "| `join-room` of a new room, warm object (median) | {new:.1} |\n\
                     | `join-room` of a room with members, warm object (median) | {known:.1} |"
                );
            }
            md.push('\n');
        }
        md.push_str(
            "| load | sent | delivered | lost | p50 ms | p99 ms | worker CPU µs/msg | worker CPU µs/delivery | proxy CPU µs/msg | proxy CPU µs/delivery |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for load in &self.loads {
            let (worker_msg, worker_delivery) = load.cpu_us_per(Self::WORKER).unzip();
            let (proxy_msg, proxy_delivery) = load.cpu_us_per(Self::PROXY).unzip();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                load.scenario,
                load.sent,
                load.delivered,
                load.lost,
                number(load.p50_ms, 1),
                number(load.p99_ms, 1),
                number(worker_msg, 1),
                number(worker_delivery, 2),
                number(proxy_msg, 1),
                number(proxy_delivery, 2),
            );
        }
        md.push('\n');
    }
}

impl AwsReport {
    /// The process whose CPU is measured.
    pub const FUNCTION: &'static str = "ws function";

    fn markdown(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "## AWS: the chat's ws function (local stack, {} MB as in template.yaml)\n",
            self.memory_mb
        );
        md.push_str(
            "| subscribers | publications | lost | p50 ms | p99 ms | Lambda invokes | DynamoDB reads | DynamoDB writes | PostToConnection | ws CPU ms/pub | est. US$ per million publications |\n\
             |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for row in &self.fanout {
            let cpu_per_publication = row
                .load
                .cpu_ms
                .iter()
                .find(|cpu| cpu.process == Self::FUNCTION)
                .filter(|_| row.load.sent > 0)
                .map(|cpu| cpu.ms / row.load.sent as f64);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.2} |",
                row.subscribers,
                row.load.sent,
                row.load.lost,
                number(row.load.p50_ms, 1),
                number(row.load.p99_ms, 1),
                row.calls.lambda_invocations,
                row.calls.dynamodb_read_requests,
                row.calls.dynamodb_write_requests,
                row.calls.post_to_connection,
                number(cpu_per_publication, 2),
                row.cost.total_usd * 1e6,
            );
        }
        md.push('\n');
        if !self.fanout.is_empty() {
            md.push_str(
                "| subscribers | DynamoDB calls per publication | API Gateway US$/M | Lambda requests US$/M | Lambda duration US$/M | DynamoDB US$/M |\n\
                 |---:|---|---:|---:|---:|---:|\n",
            );
            for row in &self.fanout {
                let operations: Vec<String> = row
                    .calls
                    .dynamodb_operations
                    .iter()
                    .map(|(operation, count)| format!("{operation} {count:.2}"))
                    .collect();
                let _ = writeln!(
                    md,
                    "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                    row.subscribers,
                    operations.join(", "),
                    row.cost.api_gateway_usd * 1e6,
                    row.cost.lambda_requests_usd * 1e6,
                    row.cost.lambda_duration_usd * 1e6,
                    row.cost.dynamodb_usd * 1e6,
                );
            }
            md.push('\n');
        }
        if let Some(cold) = &self.cold {
            let _ = writeln!(
                md,
                "| ws function start-up (through the emulator) | ms |\n|---|---:|\n\
                 | fresh bootstrap started, a client connecting at once → opened and welcomed | {:.1} |\n\
                 | the same, warm function (median of 7) | {:.1} |\n\
                 | difference: the function's own start-up, roughly | {:.1} |\n\n\
                 Bootstrap measured: `{}`, {:.1} MB ({}).\n",
                cold.cold_connect_ms,
                cold.warm_connect_ms,
                cold.cold_connect_ms - cold.warm_connect_ms,
                cold.binary,
                cold.binary_bytes as f64 / 1e6,
                if cold.binary.contains("/debug/") {
                    "a debug build, as the test command runs it: unoptimized, so its init and CPU \
                     are upper bounds"
                } else {
                    "an optimized build"
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(sent: u64, delivered: u64, cpu: &[(&str, f64)]) -> TargetLoad {
        TargetLoad {
            scenario: "fanout 100".into(),
            sent,
            delivered,
            cpu_ms: cpu
                .iter()
                .map(|(process, ms)| ProcessCpu {
                    process: (*process).into(),
                    ms: *ms,
                })
                .collect(),
            ..TargetLoad::default()
        }
    }

    #[test]
    fn cpu_is_divided_per_message_and_per_delivery_for_each_process() {
        let row = load(
            10,
            1000,
            &[("worker workerd", 50.0), ("proxy workerd", 20.0)],
        );
        assert_eq!(row.cpu_us_per("worker workerd"), Some((5000.0, 50.0)));
        assert_eq!(row.cpu_us_per("proxy workerd"), Some((2000.0, 20.0)));
        assert_eq!(row.cpu_us_per("ws function"), None);
    }

    #[test]
    fn nothing_delivered_has_no_cpu_per_delivery() {
        assert_eq!(
            load(10, 0, &[("worker workerd", 50.0)]).cpu_us_per("worker workerd"),
            None
        );
    }

    #[test]
    fn the_report_survives_its_json_and_each_part_is_in_the_markdown() {
        let report = TargetsReport {
            cloudflare: Some(CloudflareReport {
                loads: vec![load(10, 1000, &[("worker workerd", 50.0)])],
                ..CloudflareReport::default()
            }),
            aws: Some(AwsReport {
                memory_mb: 256,
                ..AwsReport::default()
            }),
        };
        let dir = std::env::temp_dir().join(format!("xws-targets-{}", std::process::id()));
        let path = dir.join("targets.json");
        report.save(&path).unwrap();
        let again = TargetsReport::load(&path).unwrap();
        assert_eq!(again.cloudflare.unwrap().loads[0].delivered, 1000);
        let md = std::fs::read_to_string(path.with_extension("md")).unwrap();
        assert!(md.contains("| fanout 100 | 10 | 1000 | 0 | - | - | 5000.0 | 50.00 | - | - |"));
        assert!(md.contains("256 MB"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_report_is_empty() {
        let report = TargetsReport::load(Path::new("/nonexistent/targets.json")).unwrap();
        assert!(report.cloudflare.is_none() && report.aws.is_none());
    }
}
