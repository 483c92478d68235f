//! [`MemoryStore`]: history and presence in this process's memory.

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::{Mutex, MutexGuard, PoisonError},
};

use serde_json::Value;

use crate::{BoxFuture, Error, PeerId, Topic};

use super::{
    Append, HistoryPage, Member, Position, Publication, Read, ReadFrom, Retention, StreamStore,
};

/// Appends between two sweeps of idle topics.
const SWEEP_EVERY: u64 = 1024;

/// History and presence in memory: for one server process (a single
/// Tokio node, tests). Everything is lost when the process ends; a new
/// process has a new epoch, so clients learn that their positions are
/// gone.
///
/// A topic's stream is forgotten once it has held nothing for its
/// retention's `ttl` (so idle topics cost nothing); it then starts over
/// in a new epoch.
///
/// ```
/// use std::time::Duration;
/// use xws::{Message, Topic, stream::*};
/// # futures_executor::block_on(async {
/// let store = MemoryStore::new("e1");
/// let retention = Retention::new(2, Duration::from_secs(60));
/// let topic = Topic::new("room:1").unwrap();
/// for text in ["a", "b", "c"] {
///     let append = Append { topic: topic.clone(), message: Message::from(text), publisher: None, retention, now_ms: 0 };
///     store.append(append).await.unwrap();
/// }
/// let read = Read { topic, from: ReadFrom::After(0), retention, now_ms: 0 };
/// let page = store.read(read).await.unwrap();
/// assert_eq!(page.position.offset, 3);
/// assert_eq!(page.publications.len(), 2); // trimmed to the last 2
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    epoch: String,
    state: Mutex<State>,
    presence: Mutex<HashMap<Topic, BTreeMap<PeerId, Value>>>,
}

#[derive(Debug, Default)]
struct State {
    streams: HashMap<Topic, Stream>,
    /// Streams created so far: each new one gets a new epoch.
    created: u64,
    appends: u64,
}

#[derive(Debug)]
struct Stream {
    position: Position,
    kept: VecDeque<Publication>,
    retention: Retention,
    /// When the stream was last appended to or created.
    touched_ms: u64,
}

impl Stream {
    fn trim(&mut self, now_ms: u64) {
        while self.kept.len() > self.retention.size {
            self.kept.pop_front();
        }
        while self
            .kept
            .front()
            .is_some_and(|oldest| !self.retention.keeps(oldest.time_ms, now_ms))
        {
            self.kept.pop_front();
        }
    }

    fn idle(&self, now_ms: u64) -> bool {
        self.kept.is_empty() && !self.retention.keeps(self.touched_ms, now_ms)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MemoryStore {
    /// A store whose streams' epochs start with `epoch`: give each process
    /// a random one, so positions from an earlier process never match.
    pub fn new(epoch: impl Into<String>) -> Self {
        Self {
            epoch: epoch.into(),
            state: Mutex::default(),
            presence: Mutex::default(),
        }
    }

    /// Topics with a stream in memory.
    pub fn stream_count(&self) -> usize {
        lock(&self.state).streams.len()
    }

    fn stream<'a>(
        &self,
        state: &'a mut State,
        topic: &Topic,
        retention: Retention,
        now_ms: u64,
    ) -> &'a mut Stream {
        if let Some(stream) = state.streams.get_mut(topic) {
            stream.trim(now_ms);
            if stream.idle(now_ms) {
                state.streams.remove(topic);
            }
        }
        let created = &mut state.created;
        let stream = state.streams.entry(topic.clone()).or_insert_with(|| {
            *created += 1;
            Stream {
                position: Position::new(0, format!("{}{:x}", self.epoch, *created)),
                kept: VecDeque::new(),
                retention,
                touched_ms: now_ms,
            }
        });
        stream.retention = retention;
        stream
    }

    fn append_now(&self, append: Append) -> Publication {
        let mut state = lock(&self.state);
        state.appends += 1;
        if state.appends % SWEEP_EVERY == 0 {
            state.streams.retain(|_, stream| {
                stream.trim(append.now_ms);
                !stream.idle(append.now_ms)
            });
        }
        let stream = self.stream(&mut state, &append.topic, append.retention, append.now_ms);
        stream.position.offset += 1;
        stream.touched_ms = append.now_ms;
        let publication = Publication {
            position: stream.position.clone(),
            message: append.message,
            time_ms: append.now_ms,
            publisher: append.publisher,
        };
        stream.kept.push_back(publication.clone());
        stream.trim(append.now_ms);
        publication
    }

    fn read_now(&self, read: Read) -> HistoryPage {
        let mut state = lock(&self.state);
        let stream = self.stream(&mut state, &read.topic, read.retention, read.now_ms);
        stream.trim(read.now_ms);
        let publications = match read.from {
            ReadFrom::After(offset) => stream
                .kept
                .iter()
                .filter(|publication| publication.offset() > offset)
                .cloned()
                .collect(),
            ReadFrom::Latest(count) => {
                let skip = stream.kept.len().saturating_sub(count);
                stream.kept.iter().skip(skip).cloned().collect()
            }
        };
        HistoryPage {
            publications,
            position: stream.position.clone(),
        }
    }
}

impl StreamStore for MemoryStore {
    fn append(&self, append: Append) -> BoxFuture<'_, Result<Publication, Error>> {
        let publication = self.append_now(append);
        Box::pin(std::future::ready(Ok(publication)))
    }

    fn read(&self, read: Read) -> BoxFuture<'_, Result<HistoryPage, Error>> {
        let page = self.read_now(read);
        Box::pin(std::future::ready(Ok(page)))
    }

    fn join(&self, topic: &Topic, member: &Member) -> BoxFuture<'_, Result<bool, Error>> {
        let new = lock(&self.presence)
            .entry(topic.clone())
            .or_default()
            .insert(member.id.clone(), member.info.clone())
            .is_none();
        Box::pin(std::future::ready(Ok(new)))
    }

    fn leave(&self, topic: &Topic, peer: &PeerId) -> BoxFuture<'_, Result<bool, Error>> {
        let mut presence = lock(&self.presence);
        let was = presence
            .get_mut(topic)
            .is_some_and(|members| members.remove(peer).is_some());
        if presence.get(topic).is_some_and(BTreeMap::is_empty) {
            presence.remove(topic);
        }
        Box::pin(std::future::ready(Ok(was)))
    }

    fn members(&self, topic: &Topic) -> BoxFuture<'_, Result<Vec<Member>, Error>> {
        let members = lock(&self.presence)
            .get(topic)
            .map_or_else(Vec::new, |members| {
                members
                    .iter()
                    .map(|(id, info)| Member {
                        id: id.clone(),
                        info: info.clone(),
                    })
                    .collect()
            });
        Box::pin(std::future::ready(Ok(members)))
    }

    fn member_count(&self, topic: &Topic) -> BoxFuture<'_, Result<usize, Error>> {
        let count = lock(&self.presence).get(topic).map_or(0, BTreeMap::len);
        Box::pin(std::future::ready(Ok(count)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;
    use futures_executor::block_on;
    use std::time::Duration;

    fn topic() -> Topic {
        Topic::new("t").unwrap()
    }

    fn append(store: &MemoryStore, retention: Retention, now_ms: u64) -> Publication {
        block_on(store.append(Append {
            topic: topic(),
            message: Message::from("{}"),
            publisher: None,
            retention,
            now_ms,
        }))
        .unwrap()
    }

    fn read(store: &MemoryStore, from: ReadFrom, retention: Retention, now_ms: u64) -> HistoryPage {
        block_on(store.read(Read {
            topic: topic(),
            from,
            retention,
            now_ms,
        }))
        .unwrap()
    }

    #[test]
    fn offsets_increase_by_one_and_old_publications_age_out() {
        let retention = Retention::new(10, Duration::from_millis(100));
        assert_eq!(append(&store(), retention, 0).offset(), 1);
        let store = store();
        for now in [0, 50, 120] {
            append(&store, retention, now);
        }
        let page = read(&store, ReadFrom::After(0), retention, 130);
        assert_eq!(page.position.offset, 3);
        let offsets: Vec<u64> = page.publications.iter().map(Publication::offset).collect();
        assert_eq!(
            offsets,
            [2, 3],
            "the publication of t=0 is older than 100 ms at t=130"
        );
        let latest = read(&store, ReadFrom::Latest(1), retention, 130);
        assert_eq!(latest.publications[0].offset(), 3);
        assert!(
            read(&store, ReadFrom::Latest(0), retention, 130)
                .publications
                .is_empty()
        );
    }

    #[test]
    fn an_idle_stream_is_forgotten_and_restarts_in_a_new_epoch() {
        let retention = Retention::new(10, Duration::from_millis(100));
        let store = store();
        let first = append(&store, retention, 0);
        let page = read(&store, ReadFrom::Latest(0), retention, 1_000);
        assert_eq!(page.position.offset, 0);
        assert_ne!(page.position.epoch, first.position.epoch);
    }

    #[test]
    fn presence_tracks_members_and_counts() {
        let store = store();
        let member = Member {
            id: "p1".into(),
            info: Value::from("ada"),
        };
        assert!(block_on(store.join(&topic(), &member)).unwrap());
        assert!(!block_on(store.join(&topic(), &member)).unwrap());
        assert_eq!(block_on(store.member_count(&topic())).unwrap(), 1);
        assert_eq!(block_on(store.members(&topic())).unwrap(), vec![member]);
        assert!(block_on(store.leave(&topic(), &"p1".into())).unwrap());
        assert!(!block_on(store.leave(&topic(), &"p1".into())).unwrap());
        assert_eq!(block_on(store.member_count(&topic())).unwrap(), 0);
    }

    fn store() -> MemoryStore {
        MemoryStore::new("e")
    }
}
