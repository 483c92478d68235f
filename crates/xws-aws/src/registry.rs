//! The peer registry: connections and topic subscriptions in one DynamoDB
//! table.
//!
//! One table, keys `pk` (string, partition) and `sk` (string, sort), TTL on
//! `expires_at` (epoch seconds):
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | connection | `conn` | connection id | `peer` (JSON [`xws::adapter::PeerSnapshot`]: request, context, topics), `limiter` (JSON [`xws::adapter::RateLimiter`], when a rate limit is set), `since` (connect time, ms), `pending` (JSON, messages from `open` not yet delivered), `expires_at` |
//! | subscription | `topic#{topic}` | connection id | `since`, `expires_at` |
//! | connection count | `count` | `all`, or `ip#{network}` ([`xws::Limits::network_of`]) | `n`, `recounted` (ms) |
//!
//! - `publish` to a topic is one `Query` on `topic#{topic}` (one page per
//!   1 MB of keys, so one request up to thousands of subscribers).
//! - `broadcast` and `peers()` are one `Query` on `conn`. All connections
//!   share that partition: fine up to ~1,000 connects per second (the
//!   per-partition write limit), where it would need sharding.
//! - `$default` reads its connection with one consistent `GetItem` and
//!   writes it back with at most one `UpdateItem` (the peer if its context
//!   or topics changed, the rate limiter's state if a limit is set).
//! - Every item expires 2 h 10 min after its connection opened (API Gateway
//!   closes connections at 2 h), so a lost `$disconnect` leaves no garbage.
//! - With connection limits, `$connect` takes a slot in the counts (a
//!   conditional `UpdateItem ADD`) and names them in the connection's
//!   `slots`; `$disconnect`, or a stale connection's removal, gives them
//!   back. API Gateway delivers `$disconnect` best-effort, so a lost one
//!   leaves a count one too high: a full count is recounted from the
//!   unexpired connection items (at most once per [`RECOUNT_INTERVAL`]),
//!   so a lost `$disconnect` holds its slot until its item expires, 2 h 10
//!   min after the connect at most.

use aws_sdk_dynamodb::{
    Client,
    operation::query::{QueryOutput, builders::QueryFluentBuilder},
    types::{
        AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue,
        ScalarAttributeType, TimeToLiveSpecification,
    },
};
use std::{collections::HashMap, sync::Arc, time::Duration};

use crate::{AwsError, MAX_CONNECTION_DURATION, Metrics};

const CONNECTIONS: &str = "conn";
const TOPIC_PREFIX: &str = "topic#";
const COUNTS: &str = "count";
/// The count of every connection, beside the per-network ones.
pub const TOTAL_SLOT: &str = "all";
/// How often a full count may be recounted from the connection items: a
/// recount reads every connection, and refused clients must not make the
/// function do that at their pace.
pub const RECOUNT_INTERVAL: Duration = Duration::from_secs(60);
/// Items outlive the connection a little so a late `$disconnect` still finds them.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10 * 60);

type Item = HashMap<String, AttributeValue>;

/// A connection as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionItem {
    /// The API Gateway connection id.
    pub id: String,
    /// The peer snapshot, as JSON.
    pub peer: String,
    /// The rate limiter's state, as JSON.
    pub limiter: Option<String>,
    /// When the connection opened, in ms since the epoch.
    pub since_ms: i64,
    /// Messages from `open` not yet delivered, as JSON.
    pub pending: Option<String>,
    /// The connection counts it holds a slot in ([`Registry::take_slot`]).
    pub slots: Vec<String>,
}

/// The peer registry: the connections table.
#[derive(Clone, Debug)]
pub struct Registry {
    client: Client,
    name: String,
    metrics: Arc<Metrics>,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn topic_key(topic: &str) -> String {
    format!("{TOPIC_PREFIX}{topic}")
}

fn expires_at(since_ms: i64) -> i64 {
    let lifetime = (MAX_CONNECTION_DURATION + EXPIRY_MARGIN).as_secs() as i64;
    since_ms / 1000 + lifetime
}

fn string_attr(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn slots_of(item: &Item) -> Vec<String> {
    item.get("slots")
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default()
}

/// The count a client network's connections take a slot in.
pub(crate) fn network_slot(network: std::net::IpAddr) -> String {
    format!("ip#{network}")
}

fn connection_from(item: &Item) -> Result<ConnectionItem, AwsError> {
    let id = string_attr(item, "sk").unwrap_or_default();
    let malformed = |reason: &str| AwsError::MalformedItem {
        key: format!("{CONNECTIONS}/{id}"),
        reason: reason.into(),
    };
    let peer = string_attr(item, "peer").ok_or_else(|| malformed("no `peer` attribute"))?;
    let since_ms = item
        .get("since")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| malformed("no numeric `since` attribute"))?;
    Ok(ConnectionItem {
        slots: slots_of(item),
        pending: string_attr(item, "pending"),
        limiter: string_attr(item, "limiter"),
        id,
        peer,
        since_ms,
    })
}

/// Creates the table `name` (on-demand billing, string keys `hash` and
/// `range`) unless it exists; `true` if this call created it. For local
/// runs (moto); deployments create tables from their template. Functions
/// keeping their own data in DynamoDB use it too.
pub async fn create_table_if_missing(
    client: &Client,
    name: &str,
    hash: &str,
    range: &str,
) -> Result<bool, AwsError> {
    if client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .is_ok()
    {
        return Ok(false);
    }
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("name and type are set")
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("name and type are set")
    };
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(hash, KeyType::Hash))
        .key_schema(key(range, KeyType::Range))
        .attribute_definitions(attr(hash))
        .attribute_definitions(attr(range))
        .send()
        .await;
    match created {
        Ok(_) => Ok(true),
        // Another function created it meanwhile.
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(AwsError::dynamodb("CreateTable", e)),
    }
}

impl Registry {
    /// The table `name`, counting calls in `metrics`.
    pub fn new(client: Client, name: impl Into<String>, metrics: Arc<Metrics>) -> Self {
        Self {
            client,
            name: name.into(),
            metrics,
        }
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Creates the table (on-demand billing, TTL on `expires_at`) unless it
    /// exists; for local runs. Real deployments create it from the template.
    pub async fn create_if_missing(&self) -> Result<(), AwsError> {
        if !create_table_if_missing(&self.client, &self.name, "pk", "sk").await? {
            return Ok(());
        }
        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name("expires_at")
            .build()
            .expect("fields are set");
        self.client
            .update_time_to_live()
            .table_name(&self.name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| AwsError::dynamodb("UpdateTimeToLive", e))?;
        Ok(())
    }

    /// Stores a new connection.
    pub async fn put_connection(&self, item: &ConnectionItem) -> Result<(), AwsError> {
        self.metrics.write();
        let mut put = self
            .client
            .put_item()
            .table_name(&self.name)
            .item("pk", s(CONNECTIONS))
            .item("sk", s(&item.id))
            .item("peer", s(&item.peer))
            .item("since", n(item.since_ms))
            .item("expires_at", n(expires_at(item.since_ms)));
        if let Some(pending) = &item.pending {
            put = put.item("pending", s(pending));
        }
        if let Some(limiter) = &item.limiter {
            put = put.item("limiter", s(limiter));
        }
        if !item.slots.is_empty() {
            put = put.item("slots", AttributeValue::Ss(item.slots.clone()));
        }
        put.send()
            .await
            .map_err(|e| AwsError::dynamodb("PutItem", e))?;
        Ok(())
    }

    /// Reads a connection (strongly consistent: the previous invocation's
    /// writes are visible).
    pub async fn get_connection(&self, id: &str) -> Result<Option<ConnectionItem>, AwsError> {
        self.metrics.read();
        let out = self
            .client
            .get_item()
            .table_name(&self.name)
            .key("pk", s(CONNECTIONS))
            .key("sk", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| AwsError::dynamodb("GetItem", e))?;
        out.item().map(connection_from).transpose()
    }

    /// Stores what changed of a connection that still exists, in one
    /// `UpdateItem`: the peer snapshot, the rate limiter's state, or both.
    /// Nothing to store: no request.
    pub async fn save_state(
        &self,
        id: &str,
        peer: Option<&str>,
        limiter: Option<&str>,
    ) -> Result<(), AwsError> {
        let fields: Vec<_> = [("peer", peer), ("limiter", limiter)]
            .into_iter()
            .filter_map(|(name, value)| Some((name, value?)))
            .collect();
        if fields.is_empty() {
            return Ok(());
        }
        let set: Vec<String> = fields
            .iter()
            .map(|(name, _)| format!("{name} = :{name}"))
            .collect();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.name)
            .key("pk", s(CONNECTIONS))
            .key("sk", s(id))
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression("attribute_exists(pk)");
        for (name, value) in fields {
            update = update.expression_attribute_values(format!(":{name}"), s(value));
        }
        self.metrics.write();
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failure(&e) => {
                tracing::debug!(
                    connection = id,
                    "connection removed meanwhile; state not saved"
                );
                Ok(())
            }
            Err(e) => Err(AwsError::dynamodb("UpdateItem", e)),
        }
    }

    /// Atomically removes and returns the connection's pending messages, so
    /// two deliverers never send them twice.
    pub async fn take_pending(&self, id: &str) -> Result<Option<String>, AwsError> {
        self.metrics.write();
        let result = self
            .client
            .update_item()
            .table_name(&self.name)
            .key("pk", s(CONNECTIONS))
            .key("sk", s(id))
            .update_expression("REMOVE pending")
            .condition_expression("attribute_exists(pending)")
            .return_values(ReturnValue::UpdatedOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.attributes().and_then(|a| string_attr(a, "pending"))),
            Err(e) if is_condition_failure(&e) => Ok(None),
            Err(e) => Err(AwsError::dynamodb("UpdateItem", e)),
        }
    }

    /// Adds `id` to `topic`'s subscribers.
    pub async fn subscribe(&self, topic: &str, id: &str, since_ms: i64) -> Result<(), AwsError> {
        self.metrics.write();
        self.client
            .put_item()
            .table_name(&self.name)
            .item("pk", s(topic_key(topic)))
            .item("sk", s(id))
            .item("since", n(since_ms))
            .item("expires_at", n(expires_at(since_ms)))
            .send()
            .await
            .map_err(|e| AwsError::dynamodb("PutItem", e))?;
        Ok(())
    }

    /// Adds `id` to `topic`'s subscribers as *preparing*: publications
    /// skip it until [`DynamoStreams`](crate::DynamoStreams) makes it live
    /// past the position its recovery delivered.
    pub async fn subscribe_preparing(
        &self,
        topic: &str,
        id: &str,
        since_ms: i64,
    ) -> Result<(), AwsError> {
        self.metrics.write();
        self.client
            .put_item()
            .table_name(&self.name)
            .item("pk", s(topic_key(topic)))
            .item("sk", s(id))
            .item("since", n(since_ms))
            .item("preparing", AttributeValue::Bool(true))
            .item("expires_at", n(expires_at(since_ms)))
            .send()
            .await
            .map_err(|e| AwsError::dynamodb("PutItem", e))?;
        Ok(())
    }

    /// The subscribers of `topic` a publication at `offset` is posted to:
    /// not those whose recovery delivered it (past their `live_from`), nor
    /// those still preparing, which are counted apart: their recovery
    /// delivers it (their history read comes after it, or the head moved
    /// past the position they read, so they read it before going live).
    pub async fn live_subscribers(
        &self,
        topic: &str,
        offset: u64,
    ) -> Result<(Vec<String>, usize), AwsError> {
        let (mut ids, mut preparing) = (Vec::new(), 0);
        let shape =
            |query: QueryFluentBuilder| query.projection_expression("sk, preparing, live_from");
        self.query_pages(&topic_key(topic), shape, |out| {
            for item in out.items() {
                let Some(id) = string_attr(item, "sk") else {
                    continue;
                };
                if item.get("preparing").is_some() {
                    preparing += 1;
                    continue;
                }
                let live_from = item
                    .get("live_from")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if live_from.is_none_or(|from| from <= offset) {
                    ids.push(id);
                }
            }
        })
        .await?;
        Ok((ids, preparing))
    }

    /// Removes `id` from `topic`'s subscribers.
    pub async fn unsubscribe(&self, topic: &str, id: &str) -> Result<(), AwsError> {
        self.metrics.write();
        self.client
            .delete_item()
            .table_name(&self.name)
            .key("pk", s(topic_key(topic)))
            .key("sk", s(id))
            .send()
            .await
            .map_err(|e| AwsError::dynamodb("DeleteItem", e))?;
        Ok(())
    }

    /// The connection ids subscribed to `topic`.
    pub async fn subscribers(&self, topic: &str) -> Result<Vec<String>, AwsError> {
        self.sort_keys(&topic_key(topic)).await
    }

    /// Every topic with its number of subscribers: a `Scan` of the whole
    /// table (topics have no index of their own), so for an operator's
    /// occasional look, not for a hot path.
    pub async fn topic_counts(&self) -> Result<Vec<(String, usize)>, AwsError> {
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        let mut start: Option<Item> = None;
        loop {
            self.metrics.read();
            let out = self
                .client
                .scan()
                .table_name(&self.name)
                .filter_expression("begins_with(pk, :prefix)")
                .expression_attribute_values(":prefix", s(TOPIC_PREFIX))
                .projection_expression("pk")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| AwsError::dynamodb("Scan", e))?;
            for item in out.items() {
                if let Some(topic) = string_attr(item, "pk")
                    .and_then(|pk| pk.strip_prefix(TOPIC_PREFIX).map(str::to_owned))
                {
                    *counts.entry(topic).or_default() += 1;
                }
            }
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(counts.into_iter().collect()),
            }
        }
    }

    /// Every stored connection with its peer snapshot (JSON), in one
    /// `Query` (a page per 1 MB).
    pub async fn connection_peers(&self) -> Result<Vec<(String, String)>, AwsError> {
        let mut peers = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            self.metrics.read();
            let out = self
                .client
                .query()
                .table_name(&self.name)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(CONNECTIONS))
                .projection_expression("sk, peer")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| AwsError::dynamodb("Query", e))?;
            peers.extend(
                out.items().iter().filter_map(|item| {
                    Some((string_attr(item, "sk")?, string_attr(item, "peer")?))
                }),
            );
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(peers),
            }
        }
    }

    /// Every stored connection id.
    pub async fn connections(&self) -> Result<Vec<String>, AwsError> {
        self.sort_keys(CONNECTIONS).await
    }

    async fn sort_keys(&self, pk: &str) -> Result<Vec<String>, AwsError> {
        let mut ids = Vec::new();
        let shape = |query: QueryFluentBuilder| query.projection_expression("sk");
        self.query_pages(pk, shape, |out| {
            ids.extend(
                out.items()
                    .iter()
                    .filter_map(|item| string_attr(item, "sk")),
            );
        })
        .await?;
        Ok(ids)
    }

    /// Runs a `Query` of partition `pk` page by page, `shape` adding to the
    /// request (projection, filter, select) and `page` taking each answer.
    async fn query_pages(
        &self,
        pk: &str,
        shape: impl Fn(QueryFluentBuilder) -> QueryFluentBuilder,
        mut page: impl FnMut(&QueryOutput),
    ) -> Result<(), AwsError> {
        let mut start: Option<Item> = None;
        loop {
            self.metrics.read();
            let query = self
                .client
                .query()
                .table_name(&self.name)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start.take());
            let out = shape(query)
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

    /// Deletes a connection item and returns what it held.
    pub async fn remove_connection(&self, id: &str) -> Result<Option<ConnectionItem>, AwsError> {
        self.metrics.write();
        let out = self
            .client
            .delete_item()
            .table_name(&self.name)
            .key("pk", s(CONNECTIONS))
            .key("sk", s(id))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| AwsError::dynamodb("DeleteItem", e))?;
        out.attributes().map(connection_from).transpose()
    }

    /// Removes items of a connection that answered `410 Gone`, but only those
    /// older than `cutoff_ms`: a younger connection may still be inside its
    /// `$connect` (not yet open), which answers 410 too.
    pub async fn remove_stale(
        &self,
        id: &str,
        topic: Option<&str>,
        cutoff_ms: i64,
    ) -> Result<(), AwsError> {
        let mut keys = vec![CONNECTIONS.to_owned()];
        keys.extend(topic.map(topic_key));
        for pk in keys {
            self.metrics.write();
            let result = self
                .client
                .delete_item()
                .table_name(&self.name)
                .key("pk", s(pk))
                .key("sk", s(id))
                .condition_expression("attribute_not_exists(since) OR since < :cutoff")
                .expression_attribute_values(":cutoff", n(cutoff_ms))
                .return_values(ReturnValue::AllOld)
                .send()
                .await;
            match result {
                Ok(out) => {
                    // Its `$disconnect` was lost: the counts get its slots back.
                    let slots = out.attributes().map(slots_of).unwrap_or_default();
                    self.release_slots(&slots).await;
                }
                Err(e) if is_condition_failure(&e) => {
                    tracing::debug!(connection = id, "410 from a connection still connecting");
                    return Ok(());
                }
                Err(e) => return Err(AwsError::dynamodb("DeleteItem", e)),
            }
        }
        Ok(())
    }
}

impl Registry {
    /// Takes a slot in the count `slot` unless it holds `max` already;
    /// `false` when it is full. One conditional `UpdateItem`, so concurrent
    /// `$connect`s never pass the limit together.
    pub async fn take_slot(&self, slot: &str, max: usize) -> Result<bool, AwsError> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        let condition = "attribute_not_exists(n) OR n < :max";
        self.update_count(
            slot,
            "ADD n :one",
            Some(condition),
            &[(":one", 1), (":max", max)],
        )
        .await
    }

    /// Gives back one slot of each count in `slots`; never below zero.
    /// Failures are logged: the recount repairs what a lost release leaves.
    pub async fn release_slots(&self, slots: &[String]) {
        for slot in slots {
            let values = [(":minus_one", -1), (":zero", 0)];
            let released = self.update_count(slot, "ADD n :minus_one", Some("n > :zero"), &values);
            if let Err(error) = released.await {
                tracing::warn!(slot, %error, "a connection slot could not be given back");
            }
        }
    }

    /// Applies `update` to the count `slot` with the numbers `values`, if
    /// `condition` holds; `false` when it does not.
    async fn update_count(
        &self,
        slot: &str,
        update: &str,
        condition: Option<&str>,
        values: &[(&str, i64)],
    ) -> Result<bool, AwsError> {
        self.metrics.write();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.name)
            .key("pk", s(COUNTS))
            .key("sk", s(slot))
            .update_expression(update)
            .set_condition_expression(condition.map(str::to_owned));
        for (name, value) in values {
            request = request.expression_attribute_values(*name, n(*value));
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(AwsError::dynamodb("UpdateItem", e)),
        }
    }

    /// Sets the count `slot` to the connections stored with it that have
    /// not expired, unless it was recounted less than [`RECOUNT_INTERVAL`]
    /// ago (then `false`). Repairs the counts that lost `$disconnect`s left
    /// too high. Connections taking a slot meanwhile may be missed, so
    /// a recount can let a few more in; it never refuses one too many.
    pub async fn recount(&self, slot: &str, now_ms: i64) -> Result<bool, AwsError> {
        let cutoff = now_ms - i64::try_from(RECOUNT_INTERVAL.as_millis()).unwrap_or(i64::MAX);
        // One recount per interval, whoever asks.
        let claim = "attribute_not_exists(recounted) OR recounted < :cutoff";
        let values = [(":now", now_ms), (":cutoff", cutoff)];
        let set = "SET recounted = :now";
        if !self.update_count(slot, set, Some(claim), &values).await? {
            return Ok(false);
        }
        let mut count: i64 = 0;
        let shape = |query: QueryFluentBuilder| {
            query
                .filter_expression("contains(slots, :slot) AND expires_at > :now")
                .expression_attribute_values(":slot", s(slot))
                .expression_attribute_values(":now", n(now_ms / 1000))
                .select(aws_sdk_dynamodb::types::Select::Count)
        };
        self.query_pages(CONNECTIONS, shape, |out| count += i64::from(out.count()))
            .await?;
        self.update_count(slot, "SET n = :count", None, &[(":count", count)])
            .await?;
        tracing::info!(slot, count, "connection count recounted");
        Ok(true)
    }
}

fn is_condition_failure<E, R>(error: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}
