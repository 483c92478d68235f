//! Why a scenario did not pass.

use std::time::Duration;

/// The failure (or the reason to skip) of one scenario, worded so that the report alone
/// says what was expected and what came instead.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Something the protocol promises did not arrive in time.
    #[error("timed out after {after:?} waiting for {waiting_for}{}", seen_suffix(.seen))]
    Timeout {
        /// What was awaited, in protocol terms.
        waiting_for: String,
        /// The wait that ran out.
        after: Duration,
        /// Frames that did arrive meanwhile, summarised (most recent last).
        seen: Vec<String>,
    },
    /// Something arrived, but not what the protocol says.
    #[error("{what}: expected {expected}, got {got}")]
    Mismatch {
        /// The check that failed.
        what: String,
        /// What the protocol requires.
        expected: String,
        /// What the target did.
        got: String,
    },
    /// The connection or the HTTP exchange itself failed.
    #[error("{context}: {message}")]
    Transport {
        /// What the suite was doing.
        context: String,
        /// The underlying error.
        message: String,
    },
    /// The scenario does not apply to this target (not a failure).
    #[error("skipped: {0}")]
    Skipped(String),
}

impl ScenarioError {
    /// A [`ScenarioError::Mismatch`] from anything printable.
    pub fn mismatch(
        what: impl Into<String>,
        expected: impl Into<String>,
        got: impl std::fmt::Display,
    ) -> Self {
        Self::Mismatch {
            what: what.into(),
            expected: expected.into(),
            got: got.to_string(),
        }
    }

    /// A [`ScenarioError::Transport`] from an underlying error.
    pub fn transport(context: impl Into<String>, error: impl std::fmt::Display) -> Self {
        Self::Transport {
            context: context.into(),
            message: error.to_string(),
        }
    }
}

fn seen_suffix(seen: &[String]) -> String {
    if seen.is_empty() {
        "; nothing else arrived".to_owned()
    } else {
        format!("; meanwhile got: {}", seen.join(" | "))
    }
}

/// Fails with a [`ScenarioError::Mismatch`] unless `expected == got`.
pub fn ensure_eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    expected: T,
    got: T,
) -> Result<(), ScenarioError> {
    if expected == got {
        Ok(())
    } else {
        Err(ScenarioError::mismatch(
            what,
            format!("{expected:?}"),
            format!("{got:?}"),
        ))
    }
}

/// Runs `work`, turning a `limit` overrun into a [`ScenarioError::Timeout`] for `waiting_for`.
pub async fn within<T>(
    limit: std::time::Duration,
    waiting_for: impl FnOnce() -> String,
    work: impl Future<Output = Result<T, ScenarioError>>,
) -> Result<T, ScenarioError> {
    tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
        Err(ScenarioError::Timeout {
            waiting_for: waiting_for(),
            after: limit,
            seen: Vec::new(),
        })
    })
}
