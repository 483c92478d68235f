//! The outcome of a run, as data and as a readable table.

use std::fmt;
use std::time::Duration;

/// How one scenario ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Everything the protocol promises happened.
    Passed,
    /// The target broke the protocol; the text says expected vs got.
    Failed(String),
    /// Not applicable to this target; the text says why.
    Skipped(String),
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// How long it ran.
    pub elapsed: Duration,
}

/// The results of a run, in suite order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One entry per scenario that was selected.
    pub results: Vec<ScenarioResult>,
}

impl Report {
    /// How many passed.
    pub fn passed(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Passed))
    }

    /// How many failed.
    pub fn failed(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Failed(_)))
    }

    /// How many were skipped.
    pub fn skipped(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Skipped(_)))
    }

    /// True when nothing failed.
    pub fn is_success(&self) -> bool {
        self.failed() == 0
    }

    /// The failures, as `(name, message)`.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &str)> {
        self.results
            .iter()
            .filter_map(|result| match &result.outcome {
                Outcome::Failed(message) => Some((result.name.as_str(), message.as_str())),
                _ => None,
            })
    }

    fn count(&self, wanted: impl Fn(&Outcome) -> bool) -> usize {
        self.results
            .iter()
            .filter(|result| wanted(&result.outcome))
            .count()
    }
}

impl fmt::Display for Report {
    /// A table (scenario, result, time, detail) and a closing `N passed, N failed, N skipped`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .results
            .iter()
            .map(|result| result.name.len())
            .chain([8])
            .max()
            .unwrap_or(8);
        writeln!(
            f,
            "{:<width$}  {:<6}  {:>8}  detail",
            "scenario", "result", "time"
        )?;
        for result in &self.results {
            let (label, detail) = match &result.outcome {
                Outcome::Passed => ("pass", ""),
                Outcome::Failed(message) => ("FAIL", message.as_str()),
                Outcome::Skipped(reason) => ("skip", reason.as_str()),
            };
            let millis = format!("{} ms", result.elapsed.as_millis());
            writeln!(
                f,
                "{:<width$}  {label:<6}  {millis:>8}  {detail}",
                result.name
            )?;
        }
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed(),
            self.failed(),
            self.skipped()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_every_result_and_ends_with_totals() {
        let result = |name: &str, outcome| ScenarioResult {
            name: name.to_owned(),
            outcome,
            elapsed: Duration::from_millis(12),
        };
        let report = Report {
            results: vec![
                result("welcome", Outcome::Passed),
                result(
                    "oversize_closes_1009",
                    Outcome::Failed("expected 1009, got 1006".into()),
                ),
                result("auth_rejects_401", Outcome::Skipped("no token".into())),
            ],
        };
        let text = report.to_string();
        assert!(
            text.contains("welcome               pass       12 ms"),
            "{text}"
        );
        assert!(
            text.contains("FAIL       12 ms  expected 1009, got 1006"),
            "{text}"
        );
        assert!(text.ends_with("1 passed, 1 failed, 1 skipped"), "{text}");
        assert!(!report.is_success());
        assert_eq!(report.failures().count(), 1);
    }
}
