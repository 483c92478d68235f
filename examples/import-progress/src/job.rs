//! The import itself: records processed in batches, each batch ending in
//! an event for the user.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The pause between two batches: a tokio sleep on Tokio and in the AWS
/// worker function, the alarm interval on Cloudflare. It stands for the time
/// real records take to fetch and write.
pub const STEP_DELAY: Duration = Duration::from_millis(100);

/// About how many progress events an import sends, whatever its size.
const EVENTS_PER_IMPORT: u64 = 20;

/// A running import of `total` records for `user`. It is plain data, so a
/// target that cannot keep a task running (a Durable Object between
/// alarms) stores it and resumes with the next [`step`](Import::step).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Import {
    /// Whose import this is; events go to this user's topic only.
    pub user: String,
    /// How many records there are.
    pub total: u64,
    /// How many records are done.
    pub current: u64,
    /// Records per batch.
    pub batch: u64,
    /// A checksum over the processed records, the import's "result".
    pub checksum: u64,
}

/// What the user's connections receive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ImportEvent {
    /// `{"type":"import-progress","progress":P,"current":I,"total":N}`,
    /// `progress` in whole percent.
    ImportProgress {
        /// Percent done, 0 to 100.
        progress: u8,
        /// Records done.
        current: u64,
        /// Records in all.
        total: u64,
    },
    /// `{"type":"import-complete","total":N}`: the last event.
    ImportComplete {
        /// Records in all.
        total: u64,
    },
}

impl Import {
    /// An import of `total` records for `user`, nothing done yet.
    pub fn new(user: impl Into<String>, total: u64) -> Self {
        Self {
            user: user.into(),
            total,
            current: 0,
            batch: total.div_ceil(EVENTS_PER_IMPORT).max(1),
            checksum: 0,
        }
    }

    /// Whether every record is done.
    pub fn is_complete(&self) -> bool {
        self.current >= self.total
    }

    /// Processes the next batch and returns the event to publish: progress
    /// after each batch, [`ImportEvent::ImportComplete`] once everything is
    /// done (and on every call after that).
    pub fn step(&mut self) -> ImportEvent {
        if self.is_complete() {
            return ImportEvent::ImportComplete { total: self.total };
        }
        let end = (self.current + self.batch).min(self.total);
        for record in self.current..end {
            self.checksum = self.checksum.rotate_left(5) ^ process(record);
        }
        self.current = end;
        ImportEvent::ImportProgress {
            progress: percent(self.current, self.total),
            current: self.current,
            total: self.total,
        }
    }

    /// The `202 Accepted` body of a started import: `{"user":U,"total":N}`.
    pub fn accepted_json(&self) -> serde_json::Value {
        serde_json::json!({ "user": self.user, "total": self.total })
    }
}

/// Stands for parsing and validating one record.
fn process(record: u64) -> u64 {
    record.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7
}

fn percent(current: u64, total: u64) -> u8 {
    if total == 0 {
        return 100;
    }
    u8::try_from(current.saturating_mul(100) / total).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(total: u64) -> Vec<ImportEvent> {
        let mut import = Import::new("ada", total);
        let mut events = Vec::new();
        while !import.is_complete() {
            events.push(import.step());
        }
        events.push(import.step());
        events
    }

    #[test]
    fn progress_rises_to_100_then_completes() {
        let events = run(50);
        let mut last = 0;
        for event in &events[..events.len() - 1] {
            let ImportEvent::ImportProgress { current, total, .. } = event else {
                panic!("progress expected, got {event:?}");
            };
            assert!(*current > last, "progress went backwards");
            assert_eq!(*total, 50);
            last = *current;
        }
        assert!(matches!(
            events[events.len() - 2],
            ImportEvent::ImportProgress {
                progress: 100,
                current: 50,
                total: 50
            }
        ));
        assert_eq!(
            events.last(),
            Some(&ImportEvent::ImportComplete { total: 50 })
        );
    }

    #[test]
    fn small_and_large_imports_send_a_bounded_number_of_events() {
        assert_eq!(run(1).len(), 2);
        assert_eq!(run(10_000).len(), EVENTS_PER_IMPORT as usize + 1);
    }

    #[test]
    fn the_wire_form_is_what_the_page_reads() {
        let progress = ImportEvent::ImportProgress {
            progress: 40,
            current: 20,
            total: 50,
        };
        assert_eq!(
            serde_json::to_value(progress).unwrap(),
            serde_json::json!({"type":"import-progress","progress":40,"current":20,"total":50})
        );
        assert_eq!(
            serde_json::to_value(ImportEvent::ImportComplete { total: 50 }).unwrap(),
            serde_json::json!({"type":"import-complete","total":50})
        );
    }

    #[test]
    fn an_import_survives_being_stored_between_steps() {
        let mut import = Import::new("ada", 30);
        import.step();
        let stored = serde_json::to_string(&import).unwrap();
        let mut resumed: Import = serde_json::from_str(&stored).unwrap();
        assert_eq!(resumed.step(), import.clone().step());
    }
}
