//! [`DynamoStreams`]: topic history and presence in the connections table.
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | a topic's head | `stream#{topic}` | `head` | `last` (the last offset given), `epoch`, `expires_at` |
//! | a publication | `stream#{topic}` | `p#{offset:020}` | `epoch`, `time` (ms), `kind`, `data`, `publisher`, `expires_at` |
//! | a presence member | `presence#{topic}` | peer id | `info` (JSON), `expires_at` |
//!
//! - An append is one `UpdateItem` on the head (`ADD last :one`, the epoch
//!   set if missing): DynamoDB's atomic counter gives every publication its
//!   own offset, with no holes; then one `PutItem` of the publication. Two
//!   writes per publication; the history is trimmed by TTL (free) and reads
//!   skip what the retention no longer keeps (older than its TTL, more than
//!   its size behind the head), so a trim costs no write.
//! - A head missing (never published, or expired with its topic) starts a
//!   new epoch: publications of an old epoch that TTL has not removed yet
//!   are never read (each item carries its epoch).
//! - A read is one consistent `GetItem` of the head and one `Query` of the
//!   publications in range.
//! - Presence is one item per member; a connection's `$disconnect` removes
//!   it, and its TTL (the connection's lifetime) covers a lost one.

use aws_sdk_dynamodb::{
    Client,
    operation::query::{QueryOutput, builders::QueryFluentBuilder},
    primitives::Blob,
    types::{AttributeValue, ReturnValue, Select},
};
use std::{collections::HashMap, sync::Arc, time::Duration};
use xws::{
    BoxFuture, Error, Message, PeerId, Text, Topic,
    stream::{
        Append, HistoryPage, Member, Position, Publication, Read, ReadFrom, Retention, StreamStore,
    },
};

use crate::{AwsError, MAX_CONNECTION_DURATION, Metrics};

type Item = HashMap<String, AttributeValue>;

const HEAD: &str = "head";
/// A head outlives its last publication by this much: an idle topic keeps
/// its epoch that long after its history expired.
const HEAD_LINGER: Duration = Duration::from_secs(24 * 3600);

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn stream_key(topic: &Topic) -> String {
    format!("stream#{topic}")
}

fn presence_key(topic: &Topic) -> String {
    format!("presence#{topic}")
}

fn publication_key(offset: u64) -> String {
    format!("p#{offset:020}")
}

fn number(item: &Item, name: &str) -> Option<u64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

fn string(item: &Item, name: &str) -> Option<String> {
    item.get(name)?.as_s().ok().cloned()
}

/// History and presence in DynamoDB, for every invocation of every
/// function that shares the table.
#[derive(Clone, Debug)]
pub struct DynamoStreams {
    client: Client,
    table: String,
    metrics: Arc<Metrics>,
}

impl DynamoStreams {
    /// The streams kept in `table` (the connections table: it has `pk`,
    /// `sk` and TTL on `expires_at`).
    pub fn new(client: Client, table: impl Into<String>, metrics: Arc<Metrics>) -> Self {
        Self {
            client,
            table: table.into(),
            metrics,
        }
    }

    fn malformed(topic: &Topic, reason: &str) -> Error {
        AwsError::MalformedItem {
            key: stream_key(topic),
            reason: reason.into(),
        }
        .into()
    }

    fn new_epoch() -> String {
        use std::hash::{BuildHasher, RandomState};
        let random = RandomState::new().hash_one(crate::now_ms());
        format!("{:012x}", random & 0xffff_ffff_ffff)
    }

    /// Appends as [`StreamStore::append`] says: the counter, then the item.
    pub async fn append_now(&self, append: Append) -> Result<Publication, Error> {
        let topic = &append.topic;
        let head_expires =
            (append.now_ms / 1000) + append.retention.ttl.as_secs() + HEAD_LINGER.as_secs();
        self.metrics.write();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(stream_key(topic)))
            .key("sk", s(HEAD))
            .update_expression(
                "ADD #last :one SET epoch = if_not_exists(epoch, :epoch), expires_at = :expires",
            )
            .expression_attribute_names("#last", "last")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":epoch", s(Self::new_epoch()))
            .expression_attribute_values(":expires", n(head_expires))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| AwsError::dynamodb("UpdateItem", e))?;
        let head = out.attributes().cloned().unwrap_or_default();
        let (Some(offset), Some(epoch)) = (number(&head, "last"), string(&head, "epoch")) else {
            return Err(Self::malformed(topic, "the head has no `last` or `epoch`"));
        };
        let (kind, data) = match &append.message {
            Message::Text(text) => ("t", Blob::new(text.as_str().as_bytes())),
            Message::Binary(bytes) => ("b", Blob::new(bytes.to_vec())),
        };
        let expires = (append.now_ms + append.retention.ttl_ms()) / 1000 + 1;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(stream_key(topic)))
            .item("sk", s(publication_key(offset)))
            .item("epoch", s(&epoch))
            .item("time", n(append.now_ms))
            .item("kind", s(kind))
            .item("data", AttributeValue::B(data))
            .item("expires_at", n(expires));
        if let Some(publisher) = &append.publisher {
            put = put.item("publisher", s(publisher.as_str()));
        }
        self.metrics.write();
        put.send()
            .await
            .map_err(|e| AwsError::dynamodb("PutItem", e))?;
        Ok(Publication {
            position: Position::new(offset, epoch),
            message: append.message,
            time_ms: append.now_ms,
            publisher: append.publisher,
        })
    }

    /// The topic's head; a topic without one gets it now (offset 0, a new
    /// epoch), so two reads agree on the epoch.
    async fn head(
        &self,
        topic: &Topic,
        retention: &Retention,
        now_ms: u64,
    ) -> Result<Position, Error> {
        self.metrics.read();
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(stream_key(topic)))
            .key("sk", s(HEAD))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::dynamodb("GetItem", e))?;
        if let Some(head) = out.item() {
            if let (Some(last), Some(epoch)) = (number(head, "last"), string(head, "epoch")) {
                return Ok(Position::new(last, epoch));
            }
        }
        let expires = now_ms / 1000 + retention.ttl.as_secs() + HEAD_LINGER.as_secs();
        self.metrics.write();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(stream_key(topic)))
            .key("sk", s(HEAD))
            .update_expression(
                "SET epoch = if_not_exists(epoch, :epoch), #last = if_not_exists(#last, :zero), expires_at = if_not_exists(expires_at, :expires)",
            )
            .expression_attribute_names("#last", "last")
            .expression_attribute_values(":epoch", s(Self::new_epoch()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":expires", n(expires))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|e| AwsError::dynamodb("UpdateItem", e))?;
        let head = out.attributes().cloned().unwrap_or_default();
        match (number(&head, "last"), string(&head, "epoch")) {
            (Some(last), Some(epoch)) => Ok(Position::new(last, epoch)),
            _ => Err(Self::malformed(topic, "the head has no `last` or `epoch`")),
        }
    }

    /// Reads as [`StreamStore::read`] says.
    pub async fn read_now(&self, read: Read) -> Result<HistoryPage, Error> {
        let position = self.head(&read.topic, &read.retention, read.now_ms).await?;
        let size = read.retention.size as u64;
        let oldest_kept = position.offset.saturating_sub(size) + 1;
        let kept_since = read.now_ms.saturating_sub(read.retention.ttl_ms());
        let (from, backwards, limit) = match read.from {
            ReadFrom::After(after) => (oldest_kept.max(after + 1), false, None),
            ReadFrom::Latest(0) => {
                return Ok(HistoryPage {
                    publications: Vec::new(),
                    position,
                });
            }
            ReadFrom::Latest(count) => (oldest_kept, true, Some(count)),
        };
        let mut publications = Vec::new();
        if from <= position.offset {
            let mut start: Option<Item> = None;
            loop {
                self.metrics.read();
                let mut query = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .consistent_read(true)
                    .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                    .expression_attribute_values(":pk", s(stream_key(&read.topic)))
                    .expression_attribute_values(":from", s(publication_key(from)))
                    .expression_attribute_values(":to", s(publication_key(position.offset)))
                    .scan_index_forward(!backwards)
                    .set_exclusive_start_key(start.take());
                if let Some(limit) = limit {
                    let left = limit.saturating_sub(publications.len());
                    query = query.limit(i32::try_from(left).unwrap_or(i32::MAX));
                }
                let out = query
                    .send()
                    .await
                    .map_err(|e| AwsError::dynamodb("Query", e))?;
                for item in out.items() {
                    let publication = publication(&read.topic, item)?;
                    // Another epoch's leftovers, and what the TTL no longer keeps.
                    if publication.position.epoch == position.epoch
                        && publication.time_ms >= kept_since
                    {
                        publications.push(publication);
                    }
                }
                let full = limit.is_some_and(|limit| publications.len() >= limit);
                match out.last_evaluated_key() {
                    Some(key) if !key.is_empty() && !full => start = Some(key.clone()),
                    _ => break,
                }
            }
        }
        publications.sort_by_key(Publication::offset);
        Ok(HistoryPage {
            publications,
            position,
        })
    }

    /// Adds `member` to `topic` until `expires_at` (epoch seconds), with
    /// join and leave events if `events`; `true` when it was not a member.
    pub async fn join_until(
        &self,
        topic: &Topic,
        member: &Member,
        expires_at: u64,
        events: bool,
    ) -> Result<bool, Error> {
        let info = serde_json::to_string(&member.info)?;
        self.metrics.write();
        let out = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(presence_key(topic)))
            .item("sk", s(member.id.as_str()))
            .item("info", s(info))
            .item("events", AttributeValue::Bool(events))
            .item("expires_at", n(expires_at))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| AwsError::dynamodb("PutItem", e))?;
        Ok(out.attributes().is_none_or(HashMap::is_empty))
    }

    /// Removes `peer` from `topic`; its info when it was a member.
    pub async fn leave_with_info(
        &self,
        topic: &Topic,
        peer: &PeerId,
    ) -> Result<Option<serde_json::Value>, Error> {
        self.metrics.write();
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(presence_key(topic)))
            .key("sk", s(peer.as_str()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| AwsError::dynamodb("DeleteItem", e))?;
        Ok(out.attributes().filter(|old| !old.is_empty()).map(|old| {
            string(old, "info")
                .and_then(|info| serde_json::from_str(&info).ok())
                .unwrap_or_default()
        }))
    }

    /// Queries `topic`'s presence partition (consistent reads) page by
    /// page, `configure` adding to each request, `page` taking each answer.
    async fn presence_pages(
        &self,
        topic: &Topic,
        configure: impl Fn(QueryFluentBuilder) -> QueryFluentBuilder,
        mut page: impl FnMut(&QueryOutput),
    ) -> Result<(), Error> {
        let mut start: Option<Item> = None;
        loop {
            self.metrics.read();
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(presence_key(topic)))
                .set_exclusive_start_key(start.take());
            let out = configure(query)
                .send()
                .await
                .map_err(|e| AwsError::dynamodb("Query", e))?;
            page(&out);
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(()),
            }
        }
    }

    /// The members of `topic`.
    pub async fn members_now(&self, topic: &Topic) -> Result<Vec<Member>, Error> {
        let mut members = Vec::new();
        let now = (crate::now_ms() / 1000) as u64;
        self.presence_pages(
            topic,
            |query| query,
            |out| {
                for item in out.items() {
                    // TTL deletes late: an expired member is gone.
                    if number(item, "expires_at").is_some_and(|at| at < now) {
                        continue;
                    }
                    let Some(id) = string(item, "sk") else {
                        continue;
                    };
                    let info = string(item, "info")
                        .and_then(|info| serde_json::from_str(&info).ok())
                        .unwrap_or_default();
                    members.push(Member {
                        id: PeerId::from(id),
                        info,
                    });
                }
            },
        )
        .await?;
        Ok(members)
    }

    /// The members of `topic` that asked for join and leave events.
    pub(crate) async fn listeners(&self, topic: &Topic) -> Result<Vec<String>, Error> {
        let mut ids = Vec::new();
        let listening = |query: QueryFluentBuilder| {
            query
                .filter_expression("events = :yes")
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
                .projection_expression("sk")
        };
        self.presence_pages(topic, listening, |out| {
            ids.extend(out.items().iter().filter_map(|item| string(item, "sk")));
        })
        .await?;
        Ok(ids)
    }

    /// Makes connection `id`'s preparing subscription to `topic` live past
    /// `position`, in one transaction that also checks the topic's head is
    /// still at `position`: then every later publication finds it live,
    /// and every earlier one was delivered by its recovery. `false` when
    /// the head moved (the caller delivers what came and tries again).
    pub async fn go_live(
        &self,
        topic: &Topic,
        id: &str,
        position: &Position,
    ) -> Result<bool, Error> {
        use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem, Update};
        let head = ConditionCheck::builder()
            .table_name(&self.table)
            .key("pk", s(stream_key(topic)))
            .key("sk", s(HEAD))
            .condition_expression("#last = :last AND epoch = :epoch")
            .expression_attribute_names("#last", "last")
            .expression_attribute_values(":last", n(position.offset))
            .expression_attribute_values(":epoch", s(&position.epoch))
            .build()
            .map_err(|e| AwsError::dynamodb("TransactWriteItems", e))?;
        let live = Update::builder()
            .table_name(&self.table)
            .key("pk", s(crate::registry::topic_key(topic.as_str())))
            .key("sk", s(id))
            .update_expression("SET live_from = :from REMOVE preparing")
            .expression_attribute_values(":from", n(position.offset + 1))
            .build()
            .map_err(|e| AwsError::dynamodb("TransactWriteItems", e))?;
        self.metrics.write();
        self.metrics.write();
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(head).build())
            .transact_items(TransactWriteItem::builder().update(live).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_transaction_canceled_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(AwsError::dynamodb("TransactWriteItems", e).into()),
        }
    }

    /// How many members `topic` has (a `COUNT` query: no items returned).
    pub async fn member_count_now(&self, topic: &Topic) -> Result<usize, Error> {
        let mut count = 0;
        self.presence_pages(
            topic,
            |query| query.select(Select::Count),
            |out| {
                count += usize::try_from(out.count()).unwrap_or(0);
            },
        )
        .await?;
        Ok(count)
    }
}

fn publication(topic: &Topic, item: &Item) -> Result<Publication, Error> {
    let malformed = |reason| DynamoStreams::malformed(topic, reason);
    let offset = string(item, "sk")
        .and_then(|sk| sk.strip_prefix("p#")?.parse().ok())
        .ok_or_else(|| malformed("a publication's `sk` is not p#OFFSET"))?;
    let epoch = string(item, "epoch").ok_or_else(|| malformed("a publication without `epoch`"))?;
    let time_ms = number(item, "time").ok_or_else(|| malformed("a publication without `time`"))?;
    let data = item
        .get("data")
        .and_then(|data| data.as_b().ok())
        .map(|blob| blob.as_ref().to_vec())
        .ok_or_else(|| malformed("a publication without `data`"))?;
    let message = match string(item, "kind").as_deref() {
        Some("b") => Message::from(data),
        _ => Message::Text(Text::from_utf8(data.into())?),
    };
    Ok(Publication {
        position: Position::new(offset, epoch),
        message,
        time_ms,
        publisher: string(item, "publisher").map(PeerId::from),
    })
}

/// Presence members expire with the longest a connection lives.
pub(crate) fn member_expiry() -> u64 {
    (crate::now_ms() / 1000) as u64 + MAX_CONNECTION_DURATION.as_secs() + 600
}

impl StreamStore for DynamoStreams {
    fn append(&self, append: Append) -> BoxFuture<'_, Result<Publication, Error>> {
        Box::pin(self.append_now(append))
    }

    fn read(&self, read: Read) -> BoxFuture<'_, Result<HistoryPage, Error>> {
        Box::pin(self.read_now(read))
    }

    fn join(&self, topic: &Topic, member: &Member) -> BoxFuture<'_, Result<bool, Error>> {
        let (topic, member) = (topic.clone(), member.clone());
        Box::pin(async move {
            self.join_until(&topic, &member, member_expiry(), false)
                .await
        })
    }

    fn leave(&self, topic: &Topic, peer: &PeerId) -> BoxFuture<'_, Result<bool, Error>> {
        let (topic, peer) = (topic.clone(), peer.clone());
        Box::pin(async move { Ok(self.leave_with_info(&topic, &peer).await?.is_some()) })
    }

    fn members(&self, topic: &Topic) -> BoxFuture<'_, Result<Vec<Member>, Error>> {
        let topic = topic.clone();
        Box::pin(async move { self.members_now(&topic).await })
    }

    fn member_count(&self, topic: &Topic) -> BoxFuture<'_, Result<usize, Error>> {
        let topic = topic.clone();
        Box::pin(async move { self.member_count_now(&topic).await })
    }
}
