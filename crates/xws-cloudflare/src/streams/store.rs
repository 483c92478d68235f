//! [`SqlStore`]: topic history in the Durable Object's SQLite storage, and
//! presence in the object's memory (rebuilt from the sockets' attachments
//! after hibernation, so it is exactly the sockets the object holds).
//!
//! The storage API is synchronous and the object runs one event at a
//! time, so "next offset + append + trim" never interleaves with another
//! publication; the writes of one event are committed together, and the
//! runtime holds the event's outgoing messages until they are durable
//! (output gate): no subscriber sees a position that was not stored.

use std::{
    cell::{Cell, RefCell},
    collections::{BTreeMap, HashMap},
};

use serde_json::Value;
use worker::{SqlCursor, SqlStorage, SqlStorageValue};
use xws::{
    BoxFuture, Error, Message, PeerId, Text, Topic,
    stream::{
        Append, HistoryPage, Member, Position, Publication, Read, ReadFrom, Retention, StreamStore,
    },
};

use crate::{error::RuntimeError, ids};

/// Tables: one row per topic (its epoch and last offset), one per kept
/// publication. Without rowid, a topic's publications are stored in
/// offset order, and the primary key is the only index (no extra row
/// written per publication).
const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS xws_streams (
       topic TEXT PRIMARY KEY, epoch TEXT NOT NULL, last INTEGER NOT NULL
     ) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS xws_history (
       topic TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL,
       kind INTEGER NOT NULL, data BLOB NOT NULL, publisher TEXT,
       PRIMARY KEY (topic, seq)
     ) WITHOUT ROWID",
];

/// A stored message's kind.
const TEXT: i64 = 0;
const BINARY: i64 = 1;

/// History in SQLite storage, presence in memory. Build one per object
/// instance with [`SqlStore::new`]; several over the same storage share
/// the history.
pub struct SqlStore {
    sql: SqlStorage,
    presence: RefCell<HashMap<Topic, BTreeMap<PeerId, Value>>>,
    /// Rows this instance wrote (inserted, updated or deleted), the unit
    /// Durable Object storage bills writes in.
    rows_written: Cell<u64>,
}

fn storage_error(what: &'static str) -> impl FnOnce(worker::Error) -> Error {
    move |error| RuntimeError::Storage(format!("{what}: {error}")).into()
}

fn int(value: u64) -> SqlStorageValue {
    // Offsets and millisecond times stay far below 2^53.
    SqlStorageValue::Integer(i64::try_from(value).unwrap_or(i64::MAX))
}

fn text(value: &str) -> SqlStorageValue {
    SqlStorageValue::String(value.to_owned())
}

fn as_u64(value: &SqlStorageValue) -> Option<u64> {
    match value {
        SqlStorageValue::Integer(n) => u64::try_from(*n).ok(),
        // Large integers come back as floats from JavaScript.
        SqlStorageValue::Float(n) if *n >= 0.0 => Some(*n as u64),
        _ => None,
    }
}

impl SqlStore {
    /// The store over `sql` (the object's `storage().sql()`); creates its
    /// tables if they do not exist.
    pub fn new(sql: SqlStorage) -> Result<Self, Error> {
        let store = Self {
            sql,
            presence: RefCell::default(),
            rows_written: Cell::new(0),
        };
        for table in SCHEMA {
            store.exec("create the stream tables", table, Vec::new())?;
        }
        Ok(store)
    }

    /// Rows written to storage by this instance so far.
    pub fn rows_written(&self) -> u64 {
        self.rows_written.get()
    }

    fn exec(
        &self,
        what: &'static str,
        query: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> Result<SqlCursor, Error> {
        self.sql.exec(query, bindings).map_err(storage_error(what))
    }

    /// Runs a writing statement to its end and counts the rows it wrote.
    fn write(
        &self,
        what: &'static str,
        query: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> Result<Vec<Vec<SqlStorageValue>>, Error> {
        let cursor = self.exec(what, query, bindings)?;
        let rows = cursor
            .raw()
            .collect::<Result<Vec<_>, _>>()
            .map_err(storage_error(what))?;
        let written = cursor.rows_written() as u64;
        self.rows_written.set(self.rows_written.get() + written);
        Ok(rows)
    }

    fn new_epoch() -> Result<String, Error> {
        Ok(ids::random_uuid()?
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(12)
            .collect())
    }

    /// Gives the publication the topic's next offset, stores it and trims
    /// the history to the retention: one synchronous step.
    pub fn append_now(&self, append: &Append) -> Result<Publication, Error> {
        let topic = append.topic.as_str();
        let rows = self.write(
            "take the next offset",
            "INSERT INTO xws_streams (topic, epoch, last) VALUES (?, ?, 1) \
             ON CONFLICT(topic) DO UPDATE SET last = last + 1 RETURNING epoch, last",
            vec![text(topic), text(&Self::new_epoch()?)],
        )?;
        let position = match rows.first().map(Vec::as_slice) {
            Some([SqlStorageValue::String(epoch), last]) => {
                as_u64(last).map(|last| Position::new(last, epoch.clone()))
            }
            _ => None,
        }
        .ok_or_else(|| RuntimeError::Storage("the offset row is malformed".into()))?;
        let (kind, data) = match &append.message {
            Message::Text(text) => (TEXT, text.as_str().as_bytes().to_vec()),
            Message::Binary(bytes) => (BINARY, bytes.to_vec()),
        };
        self.write(
            "append a publication",
            "INSERT INTO xws_history (topic, seq, time, kind, data, publisher) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                text(topic),
                int(position.offset),
                int(append.now_ms),
                SqlStorageValue::Integer(kind),
                SqlStorageValue::Blob(data),
                append
                    .publisher
                    .as_ref()
                    .map_or(SqlStorageValue::Null, |p| text(p.as_str())),
            ],
        )?;
        let (oldest_kept, kept_since) = bounds(&append.retention, position.offset, append.now_ms);
        self.write(
            "trim the history",
            "DELETE FROM xws_history WHERE topic = ? AND (seq < ? OR time < ?)",
            vec![text(topic), int(oldest_kept), int(kept_since)],
        )?;
        Ok(Publication {
            position,
            message: append.message.clone(),
            time_ms: append.now_ms,
            publisher: append.publisher.clone(),
        })
    }

    /// The topic's position; a topic never published to gets its row (and
    /// epoch) now, so two reads agree on the epoch.
    fn position(&self, topic: &str) -> Result<Position, Error> {
        let read = |store: &Self| -> Result<Option<Position>, Error> {
            let cursor = store.exec(
                "read a stream's position",
                "SELECT epoch, last FROM xws_streams WHERE topic = ?",
                vec![text(topic)],
            )?;
            let row = cursor
                .raw()
                .next()
                .transpose()
                .map_err(storage_error("read a position"))?;
            Ok(match row.as_deref() {
                Some([SqlStorageValue::String(epoch), last]) => {
                    as_u64(last).map(|last| Position::new(last, epoch.clone()))
                }
                _ => None,
            })
        };
        if let Some(position) = read(self)? {
            return Ok(position);
        }
        self.write(
            "start a stream",
            "INSERT INTO xws_streams (topic, epoch, last) VALUES (?, ?, 0) \
             ON CONFLICT(topic) DO NOTHING",
            vec![text(topic), text(&Self::new_epoch()?)],
        )?;
        read(self)?.ok_or_else(|| RuntimeError::Storage("a stream row vanished".into()).into())
    }

    /// Reads the history as [`StreamStore::read`] does, synchronously.
    pub fn read_now(&self, read: &Read) -> Result<HistoryPage, Error> {
        let topic = read.topic.as_str();
        let position = self.position(topic)?;
        let (oldest_kept, kept_since) = bounds(&read.retention, position.offset, read.now_ms);
        let columns = "SELECT seq, time, kind, data, publisher FROM xws_history \
                       WHERE topic = ? AND seq >= ? AND time >= ?";
        let base = vec![text(topic), int(oldest_kept), int(kept_since)];
        let mut publications = match read.from {
            ReadFrom::After(after) => {
                let mut bindings = base;
                bindings.push(int(after));
                let query = format!("{columns} AND seq > ? ORDER BY seq");
                self.rows(&query, bindings, &position.epoch)?
            }
            ReadFrom::Latest(0) => Vec::new(),
            ReadFrom::Latest(count) => {
                let mut bindings = base;
                bindings.push(int(count as u64));
                let query = format!("{columns} ORDER BY seq DESC LIMIT ?");
                self.rows(&query, bindings, &position.epoch)?
            }
        };
        publications.sort_by_key(Publication::offset);
        Ok(HistoryPage {
            publications,
            position,
        })
    }

    fn rows(
        &self,
        query: &str,
        bindings: Vec<SqlStorageValue>,
        epoch: &str,
    ) -> Result<Vec<Publication>, Error> {
        let cursor = self.exec("read the history", query, bindings)?;
        let mut publications = Vec::new();
        for row in cursor.raw() {
            let row = row.map_err(storage_error("read a publication"))?;
            publications.push(publication(&row, epoch)?);
        }
        Ok(publications)
    }

    /// Adds `member` to `topic` (no storage: presence is the object's
    /// sockets); `true` when it was not a member.
    pub fn join_now(&self, topic: &Topic, member: &Member) -> bool {
        self.presence
            .borrow_mut()
            .entry(topic.clone())
            .or_default()
            .insert(member.id.clone(), member.info.clone())
            .is_none()
    }

    /// Removes `peer` from `topic`; `true` when it was a member.
    pub fn leave_now(&self, topic: &Topic, peer: &PeerId) -> bool {
        let mut presence = self.presence.borrow_mut();
        let was = presence
            .get_mut(topic)
            .is_some_and(|members| members.remove(peer).is_some());
        if presence.get(topic).is_some_and(BTreeMap::is_empty) {
            presence.remove(topic);
        }
        was
    }

    /// The members of `topic`.
    pub fn members_now(&self, topic: &Topic) -> Vec<Member> {
        self.presence
            .borrow()
            .get(topic)
            .map_or_else(Vec::new, |members| {
                members
                    .iter()
                    .map(|(id, info)| Member {
                        id: id.clone(),
                        info: info.clone(),
                    })
                    .collect()
            })
    }

    /// How many members `topic` has.
    pub fn member_count_now(&self, topic: &Topic) -> usize {
        self.presence.borrow().get(topic).map_or(0, BTreeMap::len)
    }
}

/// The smallest offset and the earliest time a retention keeps, with the
/// stream at `last` and the clock at `now_ms`.
fn bounds(retention: &Retention, last: u64, now_ms: u64) -> (u64, u64) {
    let size = retention.size as u64;
    (
        last.saturating_sub(size) + 1,
        now_ms.saturating_sub(retention.ttl_ms()),
    )
}

fn publication(row: &[SqlStorageValue], epoch: &str) -> Result<Publication, Error> {
    let malformed = || Error::from(RuntimeError::Storage("a history row is malformed".into()));
    let [seq, time, kind, data, publisher] = row else {
        return Err(malformed());
    };
    let (Some(seq), Some(time)) = (as_u64(seq), as_u64(time)) else {
        return Err(malformed());
    };
    let data = match data {
        SqlStorageValue::Blob(bytes) => bytes.clone(),
        SqlStorageValue::String(text) => text.clone().into_bytes(),
        _ => return Err(malformed()),
    };
    let message = match kind {
        SqlStorageValue::Integer(BINARY) => Message::from(data),
        _ => Message::Text(Text::from_utf8(data.into())?),
    };
    let publisher = match publisher {
        SqlStorageValue::String(id) => Some(PeerId::from(id.clone())),
        _ => None,
    };
    Ok(Publication {
        position: Position::new(seq, epoch),
        message,
        time_ms: time,
        publisher,
    })
}

impl StreamStore for SqlStore {
    fn append(&self, append: Append) -> BoxFuture<'_, Result<Publication, Error>> {
        let result = self.append_now(&append);
        Box::pin(std::future::ready(result))
    }

    fn read(&self, read: Read) -> BoxFuture<'_, Result<HistoryPage, Error>> {
        let result = self.read_now(&read);
        Box::pin(std::future::ready(result))
    }

    fn join(&self, topic: &Topic, member: &Member) -> BoxFuture<'_, Result<bool, Error>> {
        Box::pin(std::future::ready(Ok(self.join_now(topic, member))))
    }

    fn leave(&self, topic: &Topic, peer: &PeerId) -> BoxFuture<'_, Result<bool, Error>> {
        Box::pin(std::future::ready(Ok(self.leave_now(topic, peer))))
    }

    fn members(&self, topic: &Topic) -> BoxFuture<'_, Result<Vec<Member>, Error>> {
        Box::pin(std::future::ready(Ok(self.members_now(topic))))
    }

    fn member_count(&self, topic: &Topic) -> BoxFuture<'_, Result<usize, Error>> {
        Box::pin(std::future::ready(Ok(self.member_count_now(topic))))
    }
}
