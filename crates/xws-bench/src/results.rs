//! Result rows, their aggregation over rounds, `results.json` and the markdown table.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::load::stats::Outcome;
use crate::scenario::{Metric, Scenario};

/// One measured value, as written to `results.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Scenario name, e.g. `echo-small`.
    pub scenario: String,
    /// Server name, e.g. `xws-tokio`.
    pub server: String,
    /// Metric name, e.g. `msgs_per_s`.
    pub metric: String,
    /// The value.
    pub value: f64,
    /// Unit of the value.
    pub unit: String,
}

/// Why a server has no numbers for a scenario.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    /// Scenario name.
    pub scenario: String,
    /// Server name.
    pub server: String,
    /// The reason, said plainly.
    pub reason: String,
}

/// Everything measured in a run, round by round.
#[derive(Debug, Default)]
pub struct Results {
    samples: BTreeMap<(Scenario, String, Metric), Vec<f64>>,
    servers: Vec<String>,
    notes: Vec<Note>,
}

impl Results {
    /// Starts empty results for `servers`, in the order columns should appear.
    pub fn new(servers: Vec<String>) -> Self {
        Self {
            servers,
            ..Self::default()
        }
    }

    /// Records one value of one round.
    pub fn record(&mut self, scenario: Scenario, server: &str, metric: Metric, value: f64) {
        self.samples
            .entry((scenario, server.to_owned(), metric))
            .or_default()
            .push(value);
    }

    /// Records what a load run measured.
    pub fn record_outcome(&mut self, scenario: Scenario, server: &str, outcome: &Outcome) {
        self.record(scenario, server, Metric::MsgsPerS, outcome.msgs_per_s);
        let latencies = &outcome.latencies;
        let quantiles = [
            (Metric::P50Ms, latencies.quantile_ms(0.5)),
            (Metric::P99Ms, latencies.quantile_ms(0.99)),
            (Metric::MaxMs, latencies.max_ms()),
        ];
        for (metric, value) in quantiles {
            if let Some(value) = value {
                self.record(scenario, server, metric, value);
            }
        }
        self.record(scenario, server, Metric::Lost, outcome.lost as f64);
    }

    /// Records the server's CPU time per delivered message of a load run.
    pub fn record_cpu(
        &mut self,
        scenario: Scenario,
        server: &str,
        cpu: std::time::Duration,
        outcome: &Outcome,
    ) {
        if outcome.delivered > 0 {
            let per_msg = cpu.as_secs_f64() * 1e6 / outcome.delivered as f64;
            self.record(scenario, server, Metric::CpuUsPerMsg, per_msg);
        }
    }

    /// Notes that `server` could not run `scenario` (once per pair).
    pub fn note(&mut self, scenario: Scenario, server: &str, reason: impl Into<String>) {
        let note = Note {
            scenario: scenario.name().to_owned(),
            server: server.to_owned(),
            reason: reason.into(),
        };
        if !self
            .notes
            .iter()
            .any(|n| n.scenario == note.scenario && n.server == note.server)
        {
            self.notes.push(note);
        }
    }

    /// The notes recorded so far.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The server columns.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// One value per scenario, server and metric, combined over rounds: losses add up, the
    /// maximum latency is the largest seen, everything else is the mean.
    pub fn value(&self, scenario: Scenario, server: &str, metric: Metric) -> Option<f64> {
        let values = self.samples.get(&(scenario, server.to_owned(), metric))?;
        if values.is_empty() {
            return None;
        }
        Some(match metric {
            Metric::Lost => values.iter().sum(),
            Metric::MaxMs => values.iter().copied().fold(f64::MIN, f64::max),
            _ => values.iter().sum::<f64>() / values.len() as f64,
        })
    }

    /// The combined rows, as written to `results.json`.
    pub fn rows(&self) -> Vec<Row> {
        let mut keys: Vec<_> = self.samples.keys().collect();
        keys.sort_by_key(|(scenario, server, metric)| {
            let column = self.servers.iter().position(|s| s == server);
            (*scenario, column, *metric)
        });
        keys.into_iter()
            .filter_map(|(scenario, server, metric)| {
                Some(Row {
                    scenario: scenario.name().to_owned(),
                    server: server.clone(),
                    metric: metric.name().to_owned(),
                    value: self.value(*scenario, server, *metric)?,
                    unit: metric.unit().to_owned(),
                })
            })
            .collect()
    }

    /// The server every other is compared with for `scenario`: xws-tokio when it ran, else
    /// the first server with a value.
    pub fn reference(&self, scenario: Scenario) -> Option<&str> {
        let metric = scenario.key_metric();
        self.servers
            .iter()
            .find(|server| self.value(scenario, server, metric).is_some())
            .map(String::as_str)
    }

    /// How `server` compares with the reference on the scenario's key metric, oriented so
    /// that above 1 is better than the reference.
    pub fn relative(&self, scenario: Scenario, server: &str) -> Option<f64> {
        let metric = scenario.key_metric();
        let value = self.value(scenario, server, metric)?.max(f64::EPSILON);
        let reference = self
            .value(scenario, self.reference(scenario)?, metric)?
            .max(f64::EPSILON);
        Some(if metric.higher_is_better() {
            value / reference
        } else {
            reference / value
        })
    }

    /// The markdown tables: every metric, then the key-metric ratios, then the notes.
    pub fn markdown(&self, scenarios: &[Scenario]) -> String {
        let mut out = String::new();
        let header = self.servers.join(" | ");
        let rule = self
            .servers
            .iter()
            .map(|_| "---:")
            .collect::<Vec<_>>()
            .join(" | ");
        let _ = writeln!(out, "| scenario | metric | {header} |\n|---|---|{rule}|");
        for &scenario in scenarios {
            for metric in Metric::ALL {
                let cells: Vec<_> = self
                    .servers
                    .iter()
                    .map(|server| self.value(scenario, server, metric))
                    .collect();
                if cells.iter().all(Option::is_none) {
                    continue;
                }
                let cells: Vec<_> = cells.into_iter().map(|v| format_value(v, metric)).collect();
                let _ = writeln!(
                    out,
                    "| {} | {} ({}) | {} |",
                    scenario.name(),
                    metric.name(),
                    metric.unit(),
                    cells.join(" | ")
                );
            }
        }
        let _ = writeln!(
            out,
            "\nRelative to the first server with a result (above 1.00 = better than it), on each \
             scenario's key metric:\n\n| scenario | key metric | {header} |\n|---|---|{rule}|"
        );
        for &scenario in scenarios {
            let cells: Vec<_> = self
                .servers
                .iter()
                .map(|server| match self.relative(scenario, server) {
                    Some(ratio) => format!("{ratio:.2}"),
                    None => "n/a".to_owned(),
                })
                .collect();
            let key = scenario.key_metric().name();
            let _ = writeln!(
                out,
                "| {} | {key} | {} |",
                scenario.name(),
                cells.join(" | ")
            );
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nNot measured:\n");
            let mut notes = self.notes.clone();
            notes.sort();
            for note in notes {
                let _ = writeln!(
                    out,
                    "- {} on {}: {}",
                    note.server, note.scenario, note.reason
                );
            }
        }
        out
    }
}

fn format_value(value: Option<f64>, metric: Metric) -> String {
    match (value, metric) {
        (None, _) => "n/a".to_owned(),
        (Some(v), Metric::MsgsPerS | Metric::Lost | Metric::BytesPerConn) => format!("{v:.0}"),
        (Some(v), Metric::Seconds | Metric::CpuUsPerMsg) => format!("{v:.2}"),
        (Some(v), _) => format!("{v:.1}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_combine_by_metric_and_ratios_follow_direction() {
        let servers = vec!["xws-tokio".to_owned(), "bun".to_owned()];
        let mut results = Results::new(servers);
        for (server, rate, p99) in [("xws-tokio", 100.0, 10.0), ("bun", 200.0, 5.0)] {
            results.record(Scenario::EchoSmall, server, Metric::MsgsPerS, rate);
            results.record(Scenario::EchoSmall, server, Metric::MsgsPerS, rate + 100.0);
            results.record(Scenario::Fanout10k, server, Metric::P99Ms, p99);
            results.record(Scenario::Fanout10k, server, Metric::Lost, 1.0);
            results.record(Scenario::Fanout10k, server, Metric::Lost, 2.0);
        }
        assert_eq!(
            results.value(Scenario::EchoSmall, "bun", Metric::MsgsPerS),
            Some(250.0)
        );
        assert_eq!(
            results.value(Scenario::Fanout10k, "bun", Metric::Lost),
            Some(3.0)
        );
        assert_eq!(
            results.relative(Scenario::EchoSmall, "bun"),
            Some(250.0 / 150.0)
        );
        assert_eq!(results.relative(Scenario::Fanout10k, "bun"), Some(2.0));
        results.note(Scenario::IdleMemory, "bun", "no RSS");
        let table = results.markdown(&[Scenario::EchoSmall, Scenario::Fanout10k]);
        assert!(
            table.contains("| echo-small | msgs_per_s (msg/s) | 150 | 250 |"),
            "{table}"
        );
        assert!(table.contains("- bun on idle-memory: no RSS"), "{table}");
        let rows = results.rows();
        assert_eq!(rows[0].server, "xws-tokio");
        assert!(rows.iter().all(|row| !row.unit.is_empty()));
    }
}
