//! Topics with history on native function targets: positions, recovery
//! and the seam, through a [`StreamStore`] every instance shares (Redis in
//! production, [`xws_redis::RedisStreams`]; functions share nothing, so the
//! store is external).
//!
//! A publication to such a topic is appended to the store, which gives it
//! its position; the store's feed then announces it to every instance (this
//! one too), and each delivers it to its streams as an event whose `id:` is
//! the position. A store without a feed (one process: `MemoryStore`) is
//! delivered from what the append returns.
//!
//! A stream subscribing to such a topic captures the live publications
//! while its history is read ([`recover`]), then goes live through
//! [`seam`]: the replay, `event: recovered` when it named a position, the
//! captured publications past the replay, then live ones past its
//! watermark. A gap in the feed (a publication past the next offset, or a
//! resubscribed feed) ends the stream with a `retry:`: the client
//! reconnects with the last id it saw and recovers from history.
//!
//! Appends wait in one bounded queue ([`InstanceTopics::DEFAULT_APPEND_CAPACITY`]
//! publications, waiting or being appended). When the store is slow or
//! away and the queue is full, a publication is refused at once with
//! [`Error::QueueFull`] and counted ([`HistoryStats::overflowed`]), as
//! xws-tokio's stream engine refuses it and as the Redis broker counts
//! what overflows its receive queue: the publisher is never blocked and
//! never told a refused publication was kept.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use futures_channel::{mpsc, oneshot};
use futures_util::StreamExt;
use xws::stream::{
    Append, Position, Publication, Read, ReadFrom, Recovery, Retention, StreamConfig, StreamEvent,
    StreamStore, SubscribeOptions, needs_latest, read_for, recover, seam,
};
use xws::{BoxFuture, Error, PeerId, Topic};

use crate::instance::{InstanceTopics, Stage};
use crate::queue::{End, EventQueue, recovered_event};

/// Publications handed to the store at once (one pipeline in Redis).
const APPEND_BATCH: usize = 64;

/// Runs a task in the background, on the runtime the topics were made with.
pub(crate) type Spawn = Arc<dyn Fn(BoxFuture<'static, ()>) + Send + Sync>;

/// Told the outcome of an append (a hub's `publish`).
type Done = oneshot::Sender<Result<Publication, Error>>;

/// One publication on its way to the store.
pub(crate) struct Job {
    append: Append,
    done: Option<Done>,
}

/// A snapshot of the history's append queue, from
/// [`InstanceTopics::history_stats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HistoryStats {
    /// Publications waiting for the store or being appended now.
    pub queued: usize,
    /// How many the queue holds at most.
    pub capacity: usize,
    /// Publications refused because the queue was full (the store slow or
    /// away): each publisher got [`Error::QueueFull`].
    pub overflowed: u64,
}

/// Which topics keep history, and where.
pub(crate) struct History {
    pub(crate) config: StreamConfig,
    pub(crate) store: Arc<dyn StreamStore>,
    /// The store announces every append itself (shared by instances).
    feed: bool,
    /// One ordered queue: a stream's publications keep their order. Its
    /// bound is `queued` against `capacity` (a count both sides see
    /// exactly, which futures' bounded channel, one slot per sender, is not).
    appends: mpsc::UnboundedSender<Job>,
    /// Publications sent and not yet answered by the store.
    queued: AtomicUsize,
    capacity: usize,
    overflowed: AtomicU64,
    pub(crate) spawn: Spawn,
}

impl History {
    /// The history of `config`'s topics in `store`, its feed delivering to
    /// `topics`; returns it with the queue [`run_appends`] drains.
    pub(crate) fn start(
        config: StreamConfig,
        store: Arc<dyn StreamStore>,
        capacity: usize,
        spawn: Spawn,
        topics: Weak<InstanceTopics>,
    ) -> (Self, mpsc::UnboundedReceiver<Job>) {
        let (appends, jobs) = mpsc::unbounded();
        let feed = store.start_feed(Arc::new(move |event| {
            if let Some(topics) = topics.upgrade() {
                topics.on_stream_event(event);
            }
        }));
        let history = Self {
            config,
            store,
            feed,
            appends,
            queued: AtomicUsize::new(0),
            capacity: capacity.max(1),
            overflowed: AtomicU64::new(0),
            spawn,
        };
        (history, jobs)
    }

    pub(crate) fn stats(&self) -> HistoryStats {
        HistoryStats {
            queued: self.queued.load(Relaxed),
            capacity: self.capacity,
            overflowed: self.overflowed.load(Relaxed),
        }
    }

    /// Takes a place in the queue, or counts a refusal: logged at the 1st,
    /// 2nd, 4th, 8th… so an outage is seen without a line per publication.
    fn reserve(&self, topic: &Topic) -> Result<(), Error> {
        let taken = self
            .queued
            .fetch_update(Relaxed, Relaxed, |queued| {
                (queued < self.capacity).then_some(queued + 1)
            })
            .is_ok();
        if taken {
            return Ok(());
        }
        let total = self.overflowed.fetch_add(1, Relaxed) + 1;
        if total.is_power_of_two() {
            tracing::warn!(
                %topic,
                capacity = self.capacity,
                total,
                "xws-serverless: the history's append queue is full (the store slow or away); publications refused"
            );
        }
        Err(Error::QueueFull)
    }

    /// Gives back the places of `count` publications the store answered.
    fn release(&self, count: usize) {
        self.queued.fetch_sub(count, Relaxed);
    }

    /// Queues `message` for `topic`'s history; `done` hears when the store
    /// has it. A full queue refuses it with [`Error::QueueFull`].
    pub(crate) fn append(
        &self,
        topic: &Topic,
        retention: Retention,
        message: xws::Message,
        publisher: Option<PeerId>,
        done: Option<Done>,
    ) -> Result<(), Error> {
        self.reserve(topic)?;
        let append = Append {
            topic: topic.clone(),
            message,
            publisher,
            retention,
            now_ms: now_ms(),
        };
        self.appends
            .unbounded_send(Job { append, done })
            .map_err(|_| {
                self.release(1);
                Error::transport("the history's append queue stopped")
            })
    }
}

/// Milliseconds since the Unix epoch: history ages are wall-clock ages.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// Appends queued publications in order, a batch per store call; without a
/// feed, delivers each to this instance's streams.
pub(crate) async fn run_appends(topics: Weak<InstanceTopics>, jobs: mpsc::UnboundedReceiver<Job>) {
    let mut batches = jobs.ready_chunks(APPEND_BATCH);
    while let Some(batch) = batches.next().await {
        let Some(topics) = topics.upgrade() else {
            return;
        };
        let Some(history) = &topics.history else {
            return;
        };
        let mut appends = Vec::with_capacity(batch.len());
        let mut waiting = Vec::with_capacity(batch.len());
        for job in batch {
            waiting.push((job.append.topic.clone(), job.done));
            appends.push(job.append);
        }
        let results = history.store.append_all(appends).await;
        history.release(waiting.len());
        for (result, (topic, done)) in results.into_iter().zip(waiting) {
            match &result {
                Ok(publication) if !history.feed => topics.deliver_publication(&topic, publication),
                Ok(_) => {}
                Err(error) if done.is_none() => {
                    tracing::warn!(%topic, %error, "xws-serverless: a stream's publication was not kept");
                }
                Err(_) => {}
            }
            if let Some(done) = done {
                let _ = done.send(result);
            }
        }
    }
}

/// Reads the history a subscription needs and decides its replay.
async fn read_recovery(
    store: &dyn StreamStore,
    topic: &Topic,
    retention: Retention,
    options: &SubscribeOptions,
) -> Result<Recovery, Error> {
    let read = |from| Read {
        topic: topic.clone(),
        from,
        retention,
        now_ms: now_ms(),
    };
    let page = store.read(read(read_for(options))).await?;
    let mut recovery = recover(options, page);
    if needs_latest(options, &recovery) {
        recovery.replay = store.read(read(ReadFrom::Latest(1))).await?.publications;
    }
    Ok(recovery)
}

impl InstanceTopics {
    /// Prepares `stream`'s subscription to a topic with history (already
    /// in the table, capturing): reads its recovery in the background; the
    /// returned receiver hears when it is live.
    pub(crate) fn prepare(
        self: &Arc<Self>,
        history: &History,
        stream: &PeerId,
        topic: &Topic,
        retention: Retention,
        since: Option<&Position>,
    ) -> oneshot::Receiver<()> {
        // As on the plain Worker: a stream that cannot be made whole gets
        // the newest publication, so it still starts from the current state.
        let options = SubscribeOptions::new()
            .since(since.cloned())
            .latest(since.is_some());
        let (ready, readied) = oneshot::channel();
        let (topics, store) = (Arc::downgrade(self), history.store.clone());
        let (stream, topic) = (stream.clone(), topic.clone());
        (history.spawn)(Box::pin(async move {
            let recovery = read_recovery(&*store, &topic, retention, &options).await;
            if let Some(topics) = topics.upgrade() {
                topics.go_live(&stream, &topic, options.since.is_some(), recovery);
            }
            let _ = ready.send(());
        }));
        readied
    }

    /// Ends a preparation: under the table's lock (which delivery takes),
    /// so no publication passes between the replay and live ones.
    fn go_live(
        &self,
        stream: &PeerId,
        topic: &Topic,
        named_position: bool,
        recovery: Result<Recovery, Error>,
    ) {
        let mut table = self.lock();
        let Some(subscriber) = table
            .get_mut(topic)
            .and_then(|subscribers| subscribers.iter_mut().find(|s| &s.id == stream))
        else {
            // The stream left meanwhile.
            return;
        };
        let Stage::Preparing(captured) = &mut subscriber.stage else {
            return;
        };
        let captured = std::mem::take(captured);
        let (replay, recovered, position) = match recovery {
            Ok(recovery) => (recovery.replay, recovery.recovered, recovery.position),
            Err(error) => {
                // Live from now on, without a position, and not recovered.
                tracing::warn!(%topic, %error, "xws-serverless: the topic's history is unavailable; the stream starts live");
                for publication in &captured {
                    let _ = subscriber.queue.push(publication.to_sse());
                }
                if named_position {
                    let _ = subscriber.queue.push(recovered_event(false));
                }
                subscriber.stage = Stage::Live(captured.last().map(|p| p.position.clone()));
                return;
            }
        };
        let replayed = replay.len();
        let (deliver, watermark) = seam(&position, replay, captured);
        let queue = &subscriber.queue;
        for (index, publication) in deliver.iter().enumerate() {
            if index == replayed {
                push_outcome(queue, recovered);
            }
            let _ = queue.push(publication.to_sse());
        }
        if deliver.len() <= replayed {
            push_outcome(queue, recovered);
        }
        subscriber.stage = Stage::Live(Some(watermark));
    }

    /// Delivers a publication with its position to this instance's streams
    /// of `topic`, in offset order: each gets it once, past its watermark.
    pub(crate) fn deliver_publication(&self, topic: &Topic, publication: &Publication) {
        let mut table = self.lock();
        let Some(subscribers) = table.get_mut(topic) else {
            return;
        };
        let mut event = None;
        for subscriber in subscribers.iter_mut() {
            let watermark = match &mut subscriber.stage {
                Stage::Preparing(captured) => {
                    captured.push(publication.clone());
                    continue;
                }
                Stage::Live(watermark) => watermark,
                // Subscribed before the topic kept history: no watermark.
                Stage::Plain => {
                    let event = event.get_or_insert_with(|| publication.to_sse());
                    let _ = subscriber.queue.push(event.clone());
                    continue;
                }
            };
            if let Some(at) = watermark
                .as_ref()
                .filter(|at| at.same_epoch(&publication.position))
            {
                if publication.offset() <= at.offset {
                    continue;
                }
                if publication.offset() > at.offset + 1 {
                    // The feed lost some: the client resumes from history.
                    tracing::warn!(%topic, after = at.offset, got = publication.offset(), "xws-serverless: a gap in the stream feed; the stream ends so its client recovers");
                    subscriber.queue.end(End::Interrupted);
                    continue;
                }
            }
            *watermark = Some(publication.position.clone());
            if publication.publisher.as_ref() != Some(&subscriber.id) {
                let event = event.get_or_insert_with(|| publication.to_sse());
                let _ = subscriber.queue.push(event.clone());
            }
        }
    }

    /// What a shared store's feed announced.
    pub(crate) fn on_stream_event(&self, event: StreamEvent) {
        match event {
            StreamEvent::Published { topic, publication } => {
                self.deliver_publication(&topic, &publication);
            }
            // Announcements may have been missed: every stream of a topic
            // with history ends, and its client recovers from history.
            StreamEvent::Resync => {
                for subscriber in self.lock().values().flatten() {
                    if !matches!(subscriber.stage, Stage::Plain) {
                        subscriber.queue.end(End::Interrupted);
                    }
                }
            }
            StreamEvent::Presence(_) => {}
        }
    }
}

/// `event: recovered` after the replay, when the stream named a position.
fn push_outcome(queue: &EventQueue, recovered: Option<bool>) {
    if let Some(recovered) = recovered {
        let _ = queue.push(recovered_event(recovered));
    }
}
