//! [`RedisStreams`]: history, recovery and presence shared by every node
//! through Redis (an [`xws::stream::StreamStore`] with a feed).

mod feed;
mod scripts;

use redis::{Value, aio::MultiplexedConnection};
use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};
use tokio_util::sync::CancellationToken;
use xws::{
    BoxFuture, Error as XwsError, PeerId, Topic,
    stream::{
        Append, DeliverStreamEvent, HistoryPage, Member, Position, PresenceChange, Publication,
        Read, ReadFrom, StreamStore,
    },
};

use crate::{EnvelopeSeal, Error, RedisBrokerConfig, connection::Connector};
use scripts::Scripts;

/// How long a stream's offset and epoch outlive its last use by default.
const META_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long a presence membership lasts unless its node refreshes it.
const PRESENCE_TTL: Duration = Duration::from_secs(60);

/// History, recovery and presence for every node of an application, in
/// one Redis: a client that drops from one node recovers on another, and
/// presence lists the members of every node.
///
/// Per publication it costs one round trip: a Lua script gives the
/// topic's next offset, appends to a Redis Stream trimmed to the
/// retention, and `PUBLISH`es the publication on the application's
/// stream channel (`{channel}:streams`), all in one atomic step; every
/// node (the publisher's too) delivers from that channel, so all of them
/// see a topic in offset order. Presence is a hash (peer → info) and a
/// sorted set of expiry times per topic; each node refreshes its members
/// every third of the TTL, so the members of a node that died leave
/// after at most the TTL. See `crates/xws/src/stream/guarantees.md` for
/// what a Redis outage does.
///
/// Hand it to `xws_tokio::Xws::with_stream_store`, next to a
/// [`RedisBroker`](crate::RedisBroker) on the same config; serverless
/// functions (Vercel, Lambda function URLs) hand it to
/// `xws_serverless::InstanceTopics::with_history`, so their SSE streams
/// resume on any instance. It needs one
/// Redis server (or a primary with replicas), version 6.2 or later;
/// Redis Cluster is not supported.
pub struct RedisStreams {
    inner: Arc<Inner>,
}

struct Inner {
    connector: Connector,
    config: RedisBrokerConfig,
    /// Keys start with it; the feed is `{prefix}:streams`.
    prefix: String,
    feed_channel: String,
    scripts: Scripts,
    /// Seals presence events with the broker's secret.
    seal: EnvelopeSeal,
    meta_ttl: Duration,
    presence_ttl: Duration,
    /// The command connection, opened on first use and again after a failure.
    connection: Mutex<Option<MultiplexedConnection>>,
    /// This node's members, refreshed before they lapse.
    members_here: Mutex<HashMap<(Topic, PeerId), String>>,
    /// Whether the feed is subscribed now.
    feed_up: tokio::sync::watch::Sender<bool>,
    cancel: CancellationToken,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RedisStreams {
    /// Streams on the Redis of `config`, under its channel's name (keys
    /// `{channel}:stream:…` and `{channel}:presence:…`). Connects on first
    /// use and again after any failure. Fails only on a bad URL or setting.
    pub fn new(config: RedisBrokerConfig) -> Result<Self, Error> {
        config.validate()?;
        let prefix = config.channel().to_owned();
        Ok(Self {
            inner: Arc::new(Inner {
                connector: Connector::new(&config)?,
                feed_channel: format!("{prefix}:streams"),
                prefix,
                seal: config.seal(),
                config,
                scripts: Scripts::new(),
                meta_ttl: META_TTL,
                presence_ttl: PRESENCE_TTL,
                connection: Mutex::new(None),
                members_here: Mutex::default(),
                feed_up: tokio::sync::watch::Sender::new(false),
                cancel: CancellationToken::new(),
            }),
        })
    }

    /// How long a stream's offset and epoch live after its last use (24 h
    /// by default). Once they are gone, the stream starts in a new epoch.
    pub fn with_meta_ttl(mut self, ttl: Duration) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.meta_ttl = ttl.max(Duration::from_secs(1));
        }
        self
    }

    /// How long a membership lasts unless its node refreshes it (60 s by
    /// default): how soon the members of a node that died leave.
    pub fn with_presence_ttl(mut self, ttl: Duration) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.presence_ttl = ttl.max(Duration::from_secs(1));
        }
        self
    }

    /// Resolves once the feed (started by `start_feed`) is subscribed:
    /// announcements made from then on reach this node. A process that
    /// serves as soon as it starts (a function) waits for it, so its first
    /// subscriber misses nothing.
    pub async fn feed_ready(&self) {
        let mut up = self.inner.feed_up.subscribe();
        let _ = up.wait_for(|up| *up).await;
    }

    /// The channel every node's feed listens to.
    pub fn feed_channel(&self) -> &str {
        &self.inner.feed_channel
    }
}

impl Drop for RedisStreams {
    fn drop(&mut self) {
        self.inner.cancel.cancel();
    }
}

impl Inner {
    fn key(&self, kind: &str, topic: &Topic, part: &str) -> String {
        format!("{}:{kind}:{topic}:{part}", self.prefix)
    }

    fn stream_keys(&self, topic: &Topic) -> [String; 2] {
        [
            self.key("stream", topic, "meta"),
            self.key("stream", topic, "log"),
        ]
    }

    fn presence_keys(&self, topic: &Topic) -> Vec<String> {
        ["members", "expiry", "leaving"]
            .map(|part| self.key("presence", topic, part))
            .into()
    }

    /// The command connection, with the scripts loaded.
    async fn connection(&self) -> Result<MultiplexedConnection, XwsError> {
        if let Some(connection) = lock(&self.connection).clone() {
            return Ok(connection);
        }
        let name = format!("xws:{}:streams", self.prefix);
        let mut connection = self
            .connector
            .open(
                &name,
                None::<tokio::sync::mpsc::UnboundedSender<redis::PushInfo>>,
            )
            .await
            .map_err(XwsError::transport)?;
        for script in self.scripts.all() {
            script
                .load_async(&mut connection)
                .await
                .map_err(XwsError::transport)?;
        }
        *lock(&self.connection) = Some(connection.clone());
        Ok(connection)
    }

    /// Runs `command` on the connection; a failure drops the connection, so
    /// the next command reconnects.
    async fn run<T: redis::FromRedisValue>(&self, command: redis::Cmd) -> Result<T, XwsError> {
        let mut connection = self.connection().await?;
        let started = std::time::Instant::now();
        let result = command.query_async(&mut connection).await;
        xws::metrics::broker_round_trip("redis", "stream", started.elapsed().as_secs_f64());
        match result {
            Ok(value) => Ok(value),
            Err(error) => Err(self.failed(error)),
        }
    }

    /// A failed command: unless Redis merely answered an error (the
    /// connection is fine then), the next command opens a new connection
    /// and loads the scripts again (a `SCRIPT FLUSH` counts as a failure).
    fn failed(&self, error: redis::RedisError) -> XwsError {
        let answered = matches!(error.kind(), redis::ErrorKind::Server(kind) if kind != redis::ServerErrorKind::NoScript);
        if !answered {
            *lock(&self.connection) = None;
        }
        XwsError::transport(error)
    }

    fn append_command(&self, append: &Append) -> redis::Cmd {
        let [meta, log] = self.stream_keys(&append.topic);
        let sealed = self.seal.seal(&feed::publication(append));
        let mut command = redis::cmd("EVALSHA");
        command
            .arg(self.scripts.append.get_hash())
            .arg(2)
            .arg(meta)
            .arg(log)
            .arg(new_epoch())
            .arg(append.retention.size)
            .arg(append.retention.ttl_ms().max(1))
            .arg(millis(self.meta_ttl.max(append.retention.ttl)))
            .arg(&self.feed_channel)
            .arg(sealed.as_ref());
        command
    }

    fn script_command(&self, script: &redis::Script, keys: &[String]) -> redis::Cmd {
        let mut command = redis::cmd("EVALSHA");
        command.arg(script.get_hash()).arg(keys.len()).arg(keys);
        command
    }
}

/// A fresh epoch name: 16 random hex digits.
fn new_epoch() -> String {
    format!("{:016x}", RandomState::new().hash_one(std::process::id()))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// `{offset, epoch, now}` as the append script answers.
fn publication_of(value: Value, append: Append) -> Result<Publication, XwsError> {
    let bad = |why: &str| XwsError::malformed("Redis stream answer", why);
    let Value::Array(items) = value else {
        return Err(bad("not an array"));
    };
    let mut items = items.into_iter();
    let offset = integer(items.next()).ok_or_else(|| bad("no offset"))?;
    let epoch = text(items.next()).ok_or_else(|| bad("no epoch"))?;
    let time_ms = integer(items.next()).ok_or_else(|| bad("no time"))?;
    Ok(Publication {
        position: Position::new(offset, epoch),
        message: append.message,
        time_ms,
        publisher: append.publisher,
    })
}

fn integer(value: Option<Value>) -> Option<u64> {
    match value? {
        Value::Int(n) => u64::try_from(n).ok(),
        Value::BulkString(bytes) => std::str::from_utf8(&bytes).ok()?.parse().ok(),
        Value::SimpleString(text) => text.parse().ok(),
        _ => None,
    }
}

fn text(value: Option<Value>) -> Option<String> {
    match value? {
        Value::BulkString(bytes) => String::from_utf8(bytes).ok(),
        Value::SimpleString(text) => Some(text),
        _ => None,
    }
}

fn bytes(value: Option<Value>) -> Option<Vec<u8>> {
    match value? {
        Value::BulkString(bytes) => Some(bytes),
        Value::SimpleString(text) => Some(text.into_bytes()),
        _ => None,
    }
}

/// `{offset, epoch, now, entries}` as the read script answers; entries are
/// `[id, [t, time, d, sealed publication]]`. Every entry's seal is opened:
/// one that does not open, or that names another topic, is an error.
fn page_of(value: Value, read: &Read, seal: &EnvelopeSeal) -> Result<HistoryPage, XwsError> {
    let bad = |why: &str| XwsError::malformed("Redis history answer", why);
    let Value::Array(items) = value else {
        return Err(bad("not an array"));
    };
    let mut items = items.into_iter();
    let offset = integer(items.next()).unwrap_or(0);
    let epoch = text(items.next()).ok_or_else(|| bad("no epoch"))?;
    let now = integer(items.next()).ok_or_else(|| bad("no time"))?;
    let entries = match items.next() {
        Some(Value::Array(entries)) => entries,
        _ => Vec::new(),
    };
    let mut publications = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Array(parts) = entry else {
            return Err(bad("an entry is not an array"));
        };
        let mut parts = parts.into_iter();
        let id = text(parts.next()).ok_or_else(|| bad("an entry without id"))?;
        let entry_offset = id
            .strip_suffix("-0")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| bad("an entry id is not {offset}-0"))?;
        let Some(Value::Array(fields)) = parts.next() else {
            return Err(bad("an entry without fields"));
        };
        let mut fields = fields.into_iter();
        let (mut time_ms, mut sealed) = (None, None);
        while let (Some(name), Some(value)) = (bytes(fields.next()), fields.next()) {
            match name.as_slice() {
                b"t" => time_ms = integer(Some(value)),
                b"d" => sealed = bytes(Some(value)),
                _ => {}
            }
        }
        let (Some(time_ms), Some(sealed)) = (time_ms, sealed) else {
            return Err(bad("an entry lacks t or d"));
        };
        if !read.retention.keeps(time_ms, now) {
            continue;
        }
        let (topic, publication) = feed::open_publication(
            seal,
            &sealed,
            Position::new(entry_offset, epoch.clone()),
            time_ms,
        )?;
        if topic != read.topic {
            return Err(bad("an entry of another topic"));
        }
        publications.push(publication);
    }
    if matches!(read.from, ReadFrom::Latest(_)) {
        publications.reverse();
    }
    Ok(HistoryPage {
        publications,
        position: Position::new(offset, epoch),
    })
}

impl StreamStore for RedisStreams {
    fn append(&self, append: Append) -> BoxFuture<'_, Result<Publication, XwsError>> {
        Box::pin(async move {
            let command = self.inner.append_command(&append);
            let value = self.inner.run(command).await?;
            publication_of(value, append)
        })
    }

    /// One pipeline for the whole batch: one round trip, in order.
    fn append_all(
        &self,
        appends: Vec<Append>,
    ) -> BoxFuture<'_, Vec<Result<Publication, XwsError>>> {
        Box::pin(async move {
            let inner = &self.inner;
            let mut pipeline = redis::pipe();
            for append in &appends {
                pipeline.add_command(inner.append_command(append));
            }
            let answers: Result<Vec<Value>, XwsError> = async {
                let mut connection = inner.connection().await?;
                pipeline
                    .query_async(&mut connection)
                    .await
                    .map_err(|error| inner.failed(error))
            }
            .await;
            match answers {
                Ok(values) if values.len() == appends.len() => values
                    .into_iter()
                    .zip(appends)
                    .map(|(value, append)| publication_of(value, append))
                    .collect(),
                Ok(_) => appends
                    .iter()
                    .map(|_| Err(XwsError::malformed("Redis pipeline answer", "wrong length")))
                    .collect(),
                Err(error) => {
                    // Redis may or may not have run them: those it ran reach
                    // the subscribers through the feed all the same.
                    let reason = error.to_string();
                    appends
                        .iter()
                        .map(|_| Err(XwsError::transport(reason.clone())))
                        .collect()
                }
            }
        })
    }

    fn read(&self, read: Read) -> BoxFuture<'_, Result<HistoryPage, XwsError>> {
        Box::pin(async move {
            let inner = &self.inner;
            let (mode, n) = match read.from {
                ReadFrom::After(offset) => ("after", offset),
                ReadFrom::Latest(count) => ("latest", count.min(read.retention.size) as u64),
            };
            let mut command =
                inner.script_command(&inner.scripts.read, &inner.stream_keys(&read.topic));
            command
                .arg(new_epoch())
                .arg(mode)
                .arg(n)
                .arg(millis(inner.meta_ttl.max(read.retention.ttl)));
            let value = inner.run(command).await?;
            page_of(value, &read, &inner.seal)
        })
    }

    fn join(&self, topic: &Topic, member: &Member) -> BoxFuture<'_, Result<bool, XwsError>> {
        let topic = topic.clone();
        let member = member.clone();
        Box::pin(async move {
            let inner = &self.inner;
            let info = member.info.to_string();
            let new: i64 = inner
                .run(inner.join_command(&topic, &member.id, &info))
                .await?;
            lock(&inner.members_here).insert((topic, member.id), info);
            Ok(new == 1)
        })
    }

    fn leave(&self, topic: &Topic, peer: &PeerId) -> BoxFuture<'_, Result<bool, XwsError>> {
        let topic = topic.clone();
        let peer = peer.clone();
        Box::pin(async move {
            let inner = &self.inner;
            lock(&inner.members_here).remove(&(topic.clone(), peer.clone()));
            let mut command =
                inner.script_command(&inner.scripts.leave, &inner.presence_keys(&topic));
            command.arg(&inner.feed_channel).arg(peer.as_str());
            let was: i64 = inner.run(command).await?;
            Ok(was == 1)
        })
    }

    fn members(&self, topic: &Topic) -> BoxFuture<'_, Result<Vec<Member>, XwsError>> {
        let topic = topic.clone();
        Box::pin(async move {
            let inner = &self.inner;
            let mut command =
                inner.script_command(&inner.scripts.members, &inner.presence_keys(&topic));
            command.arg(&inner.feed_channel);
            let pairs: Vec<(String, String)> = inner.run(command).await?;
            Ok(pairs
                .into_iter()
                .map(|(id, info)| Member {
                    id: PeerId::from(id),
                    info: serde_json::from_str(&info).unwrap_or(serde_json::Value::Null),
                })
                .collect())
        })
    }

    fn member_count(&self, topic: &Topic) -> BoxFuture<'_, Result<usize, XwsError>> {
        let topic = topic.clone();
        Box::pin(async move {
            let inner = &self.inner;
            let mut command =
                inner.script_command(&inner.scripts.count, &inner.presence_keys(&topic));
            command.arg(&inner.feed_channel);
            inner.run(command).await
        })
    }

    fn start_feed(&self, deliver: DeliverStreamEvent) -> bool {
        let runtime = tokio::runtime::Handle::try_current()
            .expect("xws-redis: RedisStreams must be started inside a Tokio runtime");
        runtime.spawn(feed::listen(Arc::clone(&self.inner), deliver));
        runtime.spawn(refresh_members(Arc::clone(&self.inner)));
        true
    }
}

impl Inner {
    fn join_command(&self, topic: &Topic, peer: &PeerId, info: &str) -> redis::Cmd {
        let mut command = self.script_command(&self.scripts.join, &self.presence_keys(topic));
        let sealed = |change| {
            self.seal
                .seal(&feed::presence_event(change, topic, peer, info))
        };
        command
            .arg(&self.feed_channel)
            .arg(peer.as_str())
            .arg(info)
            .arg(millis(self.presence_ttl))
            .arg(sealed(PresenceChange::Join).as_ref())
            .arg(sealed(PresenceChange::Leave).as_ref());
        command
    }
}

/// Re-joins this node's members every third of the presence TTL, so they
/// never lapse while connected (and come back if Redis lost them).
async fn refresh_members(inner: Arc<Inner>) {
    let mut every = tokio::time::interval(inner.presence_ttl / 3);
    every.tick().await;
    loop {
        tokio::select! {
            () = inner.cancel.cancelled() => return,
            _ = every.tick() => {}
        }
        let members: Vec<((Topic, PeerId), String)> = lock(&inner.members_here)
            .iter()
            .map(|(key, info)| (key.clone(), info.clone()))
            .collect();
        if members.is_empty() {
            continue;
        }
        let mut pipeline = redis::pipe();
        for ((topic, peer), info) in &members {
            pipeline
                .add_command(inner.join_command(topic, peer, info))
                .ignore();
        }
        let result: Result<(), XwsError> = async {
            let mut connection = inner.connection().await?;
            pipeline
                .query_async(&mut connection)
                .await
                .map_err(|error| inner.failed(error))
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(%error, members = members.len(), "xws-redis: refreshing presence failed; retrying next round");
        }
    }
}
