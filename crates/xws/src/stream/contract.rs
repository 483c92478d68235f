//! What every [`StreamStore`] must do, as one check that each store's tests
//! run against its real backend (memory, Redis, Durable Object storage,
//! DynamoDB). Topics get a unique prefix, so the check can run on a store
//! that holds other data.

use std::{future::Future, pin::Pin, task::Poll, time::Duration};

use crate::{BoxFuture, Message, PeerId, Topic};

use super::{Append, HistoryPage, Member, Read, ReadFrom, Retention, StreamStore};

/// A broken promise of the store under check.
#[derive(Debug, thiserror::Error)]
pub enum Violation {
    /// The store answered something the contract forbids.
    #[error("{what}: expected {expected}, got {got}")]
    Broken {
        /// The promise.
        what: &'static str,
        /// What it requires.
        expected: String,
        /// What the store did.
        got: String,
    },
    /// The store failed.
    #[error("the store failed during \"{what}\": {error}")]
    Failed {
        /// The operation.
        what: &'static str,
        /// The store's error.
        error: crate::Error,
    },
}

/// Time as the check needs it: the wall clock the store's appends are
/// stamped with (for stores without a clock of their own), and a way to
/// let it pass.
pub trait Clock {
    /// Now, in milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// Waits `duration` (a test clock may just move forward).
    fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()>;
}

fn expect<T: PartialEq + std::fmt::Debug>(
    what: &'static str,
    expected: T,
    got: T,
) -> Result<(), Violation> {
    if expected == got {
        return Ok(());
    }
    Err(Violation::Broken {
        what,
        expected: format!("{expected:?}"),
        got: format!("{got:?}"),
    })
}

fn failed(what: &'static str) -> impl FnOnce(crate::Error) -> Violation {
    move |error| Violation::Failed { what, error }
}

fn offsets(page: &HistoryPage) -> Vec<u64> {
    page.publications.iter().map(|p| p.offset()).collect()
}

/// Polls every future to completion, together, in one task (no runtime
/// needed): appends racing each other.
async fn join_all<T>(mut futures: Vec<BoxFuture<'_, T>>) -> Vec<T> {
    let mut results: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, result) in futures.iter_mut().zip(results.iter_mut()) {
            if result.is_none() {
                match Pin::new(future).poll(cx) {
                    Poll::Ready(value) => *result = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

/// Runs the whole contract on `store`, with topics under `prefix` (make it
/// unique per run). Takes a few seconds on a network store: one wait lets
/// publications age past a one-second TTL.
pub async fn check(
    store: &dyn StreamStore,
    clock: &dyn Clock,
    prefix: &str,
) -> Result<(), Violation> {
    let topic = |name: &str| Topic::new(format!("{prefix}:{name}")).expect("a valid topic name");
    let long = Retention::new(100, Duration::from_secs(300));
    let append = |topic: &Topic, message: Message, retention: Retention| Append {
        topic: topic.clone(),
        message,
        publisher: None,
        retention,
        now_ms: clock.now_ms(),
    };
    let read = |topic: &Topic, from: ReadFrom, retention: Retention| Read {
        topic: topic.clone(),
        from,
        retention,
        now_ms: clock.now_ms(),
    };

    // A topic never published to: offset 0 of an epoch that stays.
    let fresh = topic("fresh");
    let first = store
        .read(read(&fresh, ReadFrom::Latest(0), long))
        .await
        .map_err(failed("read a fresh topic"))?;
    expect("the offset of a fresh topic", 0, first.position.offset)?;
    if first.position.epoch.is_empty() {
        return Err(Violation::Broken {
            what: "the epoch of a fresh topic",
            expected: "a non-empty string".into(),
            got: "\"\"".into(),
        });
    }
    let again = store
        .read(read(&fresh, ReadFrom::Latest(0), long))
        .await
        .map_err(failed("read it again"))?;
    expect(
        "the epoch of a topic read twice",
        &first.position.epoch,
        &again.position.epoch,
    )?;
    let appended = store
        .append(append(&fresh, Message::from("{\"n\":1}"), long))
        .await
        .map_err(failed("append"))?;
    expect(
        "the first publication's position",
        (1, &first.position.epoch),
        (appended.offset(), &appended.position.epoch),
    )?;

    // Offsets one by one, messages as given (text and binary), reads by range.
    let kept = topic("kept");
    let messages = [
        Message::from("{\"n\":1}"),
        Message::from(vec![0u8, 159, 146, 150]),
        Message::from("line\none"),
        Message::from("{}"),
    ];
    for (index, message) in messages.iter().enumerate() {
        let publication = store
            .append(append(&kept, message.clone(), long))
            .await
            .map_err(failed("append"))?;
        expect(
            "offsets grow by one",
            index as u64 + 1,
            publication.offset(),
        )?;
    }
    let all = store
        .read(read(&kept, ReadFrom::After(0), long))
        .await
        .map_err(failed("read after 0"))?;
    expect(
        "everything after 0, oldest first",
        vec![1, 2, 3, 4],
        offsets(&all),
    )?;
    expect("the position after four", 4, all.position.offset)?;
    let stored: Vec<&Message> = all.publications.iter().map(|p| &p.message).collect();
    expect(
        "the messages, as given",
        messages.iter().collect::<Vec<_>>(),
        stored,
    )?;
    let after = store
        .read(read(&kept, ReadFrom::After(2), long))
        .await
        .map_err(failed("read after 2"))?;
    expect("after 2", vec![3, 4], offsets(&after))?;
    let none = store
        .read(read(&kept, ReadFrom::After(4), long))
        .await
        .map_err(failed("read after the end"))?;
    expect("after the end", Vec::<u64>::new(), offsets(&none))?;
    let latest = store
        .read(read(&kept, ReadFrom::Latest(2), long))
        .await
        .map_err(failed("read the latest 2"))?;
    expect("the latest 2, oldest first", vec![3, 4], offsets(&latest))?;

    // Trimmed to the size: the newest stay.
    let small = Retention::new(3, Duration::from_secs(300));
    let trimmed = topic("trimmed");
    for n in 0..5 {
        store
            .append(append(&trimmed, Message::from(format!("{n}")), small))
            .await
            .map_err(failed("append"))?;
    }
    let page = store
        .read(read(&trimmed, ReadFrom::After(0), small))
        .await
        .map_err(failed("read a trimmed topic"))?;
    expect(
        "a history of size 3 after 5 publications",
        vec![3, 4, 5],
        offsets(&page),
    )?;

    // Publications older than the TTL are not returned. (A store may also
    // forget the whole stream by then and start a new epoch.)
    let short = Retention::new(100, Duration::from_secs(1));
    let aging = topic("aging");
    store
        .append(append(&aging, Message::from("old"), short))
        .await
        .map_err(failed("append"))?;
    clock.sleep(Duration::from_millis(2_100)).await;
    let young = store
        .append(append(&aging, Message::from("new"), short))
        .await
        .map_err(failed("append"))?;
    let page = store
        .read(read(&aging, ReadFrom::After(0), short))
        .await
        .map_err(failed("read an aging topic"))?;
    let positions: Vec<_> = page.publications.iter().map(|p| &p.position).collect();
    expect(
        "only publications younger than the TTL",
        vec![&young.position],
        positions,
    )?;

    // Racing appends never share an offset.
    let raced = topic("raced");
    let racing = (0..20)
        .map(|n| store.append(append(&raced, Message::from(format!("{n}")), long)))
        .collect();
    let mut got: Vec<u64> = join_all(racing)
        .await
        .into_iter()
        .map(|result| result.map(|p| p.offset()))
        .collect::<Result<_, _>>()
        .map_err(failed("append concurrently"))?;
    got.sort_unstable();
    expect(
        "racing appends get 1..=20 once each",
        (1..=20).collect::<Vec<u64>>(),
        got,
    )?;
    let results = store
        .append_all(
            (0..3)
                .map(|n| append(&raced, Message::from(format!("batch {n}")), long))
                .collect(),
        )
        .await;
    let batch: Vec<u64> = results
        .into_iter()
        .map(|result| result.map(|p| p.offset()))
        .collect::<Result<_, _>>()
        .map_err(failed("append a batch"))?;
    expect("a batch appends in order", vec![21, 22, 23], batch)?;

    // Presence.
    let room = topic("presence");
    let ada = Member {
        id: PeerId::from(format!("{prefix}-ada")),
        info: serde_json::json!({ "user": "ada" }),
    };
    let bob = Member {
        id: PeerId::from(format!("{prefix}-bob")),
        info: serde_json::Value::Null,
    };
    expect(
        "a first join is new",
        true,
        store.join(&room, &ada).await.map_err(failed("join"))?,
    )?;
    expect(
        "joining again is not",
        false,
        store
            .join(&room, &ada)
            .await
            .map_err(failed("join again"))?,
    )?;
    store.join(&room, &bob).await.map_err(failed("join"))?;
    expect(
        "the member count",
        2,
        store.member_count(&room).await.map_err(failed("count"))?,
    )?;
    let mut members = store.members(&room).await.map_err(failed("members"))?;
    members.sort_by(|a, b| a.id.cmp(&b.id));
    expect(
        "the members, with their info",
        vec![ada.clone(), bob.clone()],
        members,
    )?;
    expect(
        "leaving a member",
        true,
        store.leave(&room, &ada.id).await.map_err(failed("leave"))?,
    )?;
    expect(
        "leaving twice",
        false,
        store
            .leave(&room, &ada.id)
            .await
            .map_err(failed("leave again"))?,
    )?;
    expect(
        "the members after a leave",
        vec![bob.clone()],
        store.members(&room).await.map_err(failed("members"))?,
    )?;
    store.leave(&room, &bob.id).await.map_err(failed("leave"))?;
    expect(
        "an empty presence",
        0,
        store.member_count(&room).await.map_err(failed("count"))?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::MemoryStore;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A clock that jumps forward when asked to wait.
    struct TestClock(AtomicU64);

    impl Clock for TestClock {
        fn now_ms(&self) -> u64 {
            self.0.load(Ordering::Relaxed)
        }
        fn sleep(&self, duration: Duration) -> BoxFuture<'_, ()> {
            self.0
                .fetch_add(duration.as_millis() as u64, Ordering::Relaxed);
            Box::pin(std::future::ready(()))
        }
    }

    #[test]
    fn the_memory_store_keeps_the_contract() {
        let clock = TestClock(AtomicU64::new(1_000_000));
        futures_executor::block_on(check(&MemoryStore::new("e"), &clock, "contract")).unwrap();
    }

    /// A store that hands out the same offset twice, as a non-atomic
    /// "read offset, then write" would under a race.
    struct Racy(MemoryStore, AtomicU64);

    impl StreamStore for Racy {
        fn append(
            &self,
            append: Append,
        ) -> BoxFuture<'_, Result<super::super::Publication, crate::Error>> {
            Box::pin(async move {
                let mut publication = self.0.append(append).await;
                if let Ok(publication) = &mut publication {
                    if publication.position.offset > 3
                        && self.1.fetch_add(1, Ordering::Relaxed) == 0
                    {
                        publication.position.offset -= 1;
                    }
                }
                publication
            })
        }
        fn read(&self, read: Read) -> BoxFuture<'_, Result<HistoryPage, crate::Error>> {
            self.0.read(read)
        }
        fn join(
            &self,
            topic: &Topic,
            member: &Member,
        ) -> BoxFuture<'_, Result<bool, crate::Error>> {
            self.0.join(topic, member)
        }
        fn leave(&self, topic: &Topic, peer: &PeerId) -> BoxFuture<'_, Result<bool, crate::Error>> {
            self.0.leave(topic, peer)
        }
        fn members(&self, topic: &Topic) -> BoxFuture<'_, Result<Vec<Member>, crate::Error>> {
            self.0.members(topic)
        }
        fn member_count(&self, topic: &Topic) -> BoxFuture<'_, Result<usize, crate::Error>> {
            self.0.member_count(topic)
        }
    }

    #[test]
    fn a_store_that_repeats_an_offset_breaks_it() {
        let clock = TestClock(AtomicU64::new(1_000_000));
        let store = Racy(MemoryStore::new("e"), AtomicU64::new(0));
        let violation = futures_executor::block_on(check(&store, &clock, "contract")).unwrap_err();
        assert!(
            violation.to_string().contains("offsets grow by one"),
            "{violation}"
        );
    }
}
