//! The recovery algorithm: what a subscriber gets between its position
//! and live delivery, with no gap and no duplicate at the seam.
//!
//! An adapter subscribes in three steps, and the functions here decide
//! everything that is not IO:
//!
//! 1. It starts capturing the topic's live publications for the new
//!    subscriber (delivering none of them yet), then reads the history
//!    [`read_for`] names. Capturing first means every publication is in
//!    the history read, in the capture, or in both.
//! 2. [`recover`] turns the read into the subscriber's [`Recovery`]: its
//!    position, whether it recovered, and the publications to replay.
//! 3. When the subscription starts, [`seam`] appends the captured
//!    publications the replay does not already hold, and the subscriber
//!    goes live past the last offset it was given (the *watermark*):
//!    live delivery skips anything at or below it.

use serde_json::Value;

use super::{HistoryPage, Position, Publication, ReadFrom};

/// How a handler subscribes to a topic that keeps history or presence.
///
/// ```
/// use xws::stream::{Position, SubscribeOptions};
/// let options = SubscribeOptions::new()
///     .since(Some(Position::new(41, "e1")))
///     .info(serde_json::json!({"user": "ada"}))
///     .presence_events(true);
/// assert!(options.since.is_some());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubscribeOptions {
    /// Recover from this position: replay every kept publication after
    /// it, oldest first, before live ones.
    pub since: Option<Position>,
    /// Cache mode: deliver the newest kept publication on subscribe
    /// (unless recovery already brought the subscriber up to date).
    pub latest: bool,
    /// The subscriber's presence info, on topics that keep presence.
    pub info: Value,
    /// Receive the topic's join and leave events.
    pub presence_events: bool,
}

impl SubscribeOptions {
    /// A plain subscription: no recovery, no cache, `null` info, no events.
    pub fn new() -> Self {
        Self::default()
    }

    /// Recovers from `position`, if given.
    pub fn since(mut self, position: Option<Position>) -> Self {
        self.since = position;
        self
    }

    /// Asks for the newest publication on subscribe (cache mode).
    pub fn latest(mut self, latest: bool) -> Self {
        self.latest = latest;
        self
    }

    /// Sets the presence info.
    pub fn info(mut self, info: Value) -> Self {
        self.info = info;
        self
    }

    /// Asks for join and leave events.
    pub fn presence_events(mut self, on: bool) -> Self {
        self.presence_events = on;
        self
    }
}

/// What a subscription gets before it goes live.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// The stream's position when the history was read: once the replay
    /// is delivered, the subscriber has everything up to here.
    pub position: Position,
    /// With `since`: whether every publication after it could be
    /// replayed. `false` when the epoch differs, the history was trimmed
    /// past it, or it is ahead of the stream: the app must refetch its
    /// state. `None` without `since`.
    pub recovered: Option<bool>,
    /// What to deliver first, oldest first.
    pub replay: Vec<Publication>,
}

/// The history read a subscription needs.
pub fn read_for(options: &SubscribeOptions) -> ReadFrom {
    match (&options.since, options.latest) {
        (Some(since), _) => ReadFrom::After(since.offset),
        (None, true) => ReadFrom::Latest(1),
        (None, false) => ReadFrom::Latest(0),
    }
}

/// Decides a subscription's recovery from the history read for it.
///
/// ```
/// use xws::{Message, stream::*};
/// let publication = |offset| Publication {
///     position: Position::new(offset, "e1"),
///     message: Message::from("{}"),
///     time_ms: 0,
///     publisher: None,
/// };
/// let page = HistoryPage { publications: vec![publication(5), publication(6)], position: Position::new(6, "e1") };
/// let since = SubscribeOptions::new().since(Some(Position::new(4, "e1")));
/// let recovery = recover(&since, page.clone());
/// assert_eq!(recovery.recovered, Some(true));
/// assert_eq!(recovery.replay.len(), 2);
/// // Publication 4 was trimmed: the client at 3 cannot be made whole.
/// let since = SubscribeOptions::new().since(Some(Position::new(3, "e1")));
/// assert_eq!(recover(&since, page).recovered, Some(false));
/// ```
pub fn recover(options: &SubscribeOptions, page: HistoryPage) -> Recovery {
    let HistoryPage {
        publications,
        position,
    } = page;
    let Some(since) = &options.since else {
        let replay = if options.latest {
            publications.into_iter().last().into_iter().collect()
        } else {
            Vec::new()
        };
        return Recovery {
            position,
            recovered: None,
            replay,
        };
    };
    let missed: Vec<Publication> = publications
        .iter()
        .filter(|publication| {
            publication.position.same_epoch(since) && publication.offset() > since.offset
        })
        .cloned()
        .collect();
    let complete = since.same_epoch(&position)
        && since.offset <= position.offset
        && missed.len() as u64 == position.offset - since.offset
        && missed
            .iter()
            .zip(since.offset + 1..)
            .all(|(publication, expected)| publication.offset() == expected);
    let replay = if complete {
        missed
    } else if options.latest {
        publications
            .into_iter()
            .last()
            .filter(|newest| newest.position == position)
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    Recovery {
        position,
        recovered: Some(complete),
        replay,
    }
}

/// Whether a cache-mode subscription still lacks the newest publication
/// after [`recover`] (a failed recovery read the wrong part): the adapter
/// then reads [`ReadFrom::Latest`]`(1)` and replays that.
pub fn needs_latest(options: &SubscribeOptions, recovery: &Recovery) -> bool {
    options.latest
        && recovery.recovered != Some(true)
        && recovery.replay.is_empty()
        && recovery.position.offset > 0
}

/// The seam between replay and live delivery: the replay, then the live
/// publications captured meanwhile that are past it, oldest first, each
/// once. Returns them with the watermark: the position live delivery
/// continues after.
///
/// A captured publication from another epoch means the stream was reset
/// while the subscription was prepared: it is newer than everything
/// read, so it comes last, and the watermark moves to its epoch.
///
/// ```
/// use xws::{Message, stream::*};
/// let publication = |offset| Publication {
///     position: Position::new(offset, "e1"),
///     message: Message::from("{}"),
///     time_ms: 0,
///     publisher: None,
/// };
/// // History had 5..=6; 6 and 7 were captured live meanwhile.
/// let (deliver, watermark) = seam(&Position::new(6, "e1"), vec![publication(5), publication(6)], vec![publication(6), publication(7)]);
/// let offsets: Vec<u64> = deliver.iter().map(Publication::offset).collect();
/// assert_eq!(offsets, [5, 6, 7]);
/// assert_eq!(watermark, Position::new(7, "e1"));
/// ```
pub fn seam(
    position: &Position,
    replay: Vec<Publication>,
    mut captured: Vec<Publication>,
) -> (Vec<Publication>, Position) {
    let mut watermark = position.clone();
    if let Some(last) = replay.last() {
        if last.position.same_epoch(&watermark) && last.offset() > watermark.offset {
            watermark.offset = last.offset();
        }
    }
    let mut deliver = replay;
    captured.sort_by_key(|publication| {
        (
            !publication.position.same_epoch(position),
            publication.offset(),
        )
    });
    for publication in captured {
        let newer = if publication.position.same_epoch(&watermark) {
            publication.offset() > watermark.offset
        } else {
            // Another epoch: the stream was reset after the read.
            true
        };
        if newer {
            watermark = publication.position.clone();
            deliver.push(publication);
        }
    }
    (deliver, watermark)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    fn publication(offset: u64, epoch: &str) -> Publication {
        Publication {
            position: Position::new(offset, epoch),
            message: Message::from(format!("{{\"n\":{offset}}}")),
            time_ms: 0,
            publisher: None,
        }
    }

    /// The history `first..=last` (empty when `first > last`) at `top`.
    fn page(first: u64, last: u64, top: u64) -> HistoryPage {
        HistoryPage {
            publications: (first..last + 1)
                .map(|offset| publication(offset, "e"))
                .collect(),
            position: Position::new(top, "e"),
        }
    }

    fn offsets(publications: &[Publication]) -> Vec<u64> {
        publications.iter().map(Publication::offset).collect()
    }

    fn since(offset: u64, epoch: &str) -> SubscribeOptions {
        SubscribeOptions::new().since(Some(Position::new(offset, epoch)))
    }

    #[test]
    fn a_client_at_the_top_recovers_with_nothing_to_replay() {
        let recovery = recover(&since(9, "e"), page(10, 9, 9));
        assert_eq!(recovery.recovered, Some(true));
        assert!(recovery.replay.is_empty());
    }

    #[test]
    fn everything_after_the_position_is_replayed_oldest_first() {
        let recovery = recover(&since(3, "e"), page(4, 9, 9));
        assert_eq!(recovery.recovered, Some(true));
        assert_eq!(offsets(&recovery.replay), [4, 5, 6, 7, 8, 9]);
    }

    #[test]
    fn recovery_is_refused_for_a_foreign_epoch_a_trimmed_history_or_a_future_position() {
        for (options, page) in [
            (since(3, "other"), page(4, 9, 9)),
            (since(2, "e"), page(4, 9, 9)),
            (since(12, "e"), page(13, 12, 9)),
            // A hole inside the history (a store that lost one) is no recovery either.
            (
                since(3, "e"),
                HistoryPage {
                    publications: vec![publication(4, "e"), publication(6, "e")],
                    position: Position::new(6, "e"),
                },
            ),
        ] {
            let recovery = recover(&options, page);
            assert_eq!(recovery.recovered, Some(false), "{options:?}");
            assert!(recovery.replay.is_empty());
        }
    }

    #[test]
    fn cache_mode_gives_the_newest_publication() {
        let latest = SubscribeOptions::new().latest(true);
        let recovery = recover(&latest, page(9, 9, 9));
        assert_eq!(offsets(&recovery.replay), [9]);
        assert_eq!(recovery.recovered, None);
        // A failed recovery in cache mode needs the newest read separately.
        let options = since(1, "other").latest(true);
        let recovery = recover(&options, page(10, 9, 9));
        assert!(needs_latest(&options, &recovery));
        // An empty stream has nothing to give.
        let recovery = recover(&latest, page(1, 0, 0));
        assert!(!needs_latest(&latest, &recovery));
    }

    #[test]
    fn the_seam_drops_what_the_replay_holds_and_keeps_the_rest_in_order() {
        let (deliver, watermark) = seam(
            &Position::new(6, "e"),
            vec![publication(5, "e"), publication(6, "e")],
            vec![
                publication(8, "e"),
                publication(4, "e"),
                publication(6, "e"),
                publication(7, "e"),
                publication(7, "e"),
            ],
        );
        assert_eq!(offsets(&deliver), [5, 6, 7, 8]);
        assert_eq!(watermark, Position::new(8, "e"));
    }

    #[test]
    fn a_reset_during_the_subscription_comes_last_and_moves_the_watermark() {
        let (deliver, watermark) = seam(
            &Position::new(6, "old"),
            Vec::new(),
            vec![
                publication(1, "new"),
                publication(7, "old"),
                publication(2, "new"),
            ],
        );
        assert_eq!(offsets(&deliver), [7, 1, 2]);
        assert_eq!(watermark, Position::new(2, "new"));
    }
}
