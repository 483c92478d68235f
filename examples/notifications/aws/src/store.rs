//! [`NotificationStore`] on DynamoDB.
//!
//! One table (`NOTIFICATIONS_TABLE`), partition key `user`, sort key `id`;
//! attributes `title`, `body`, `created_at` (N, ms), `read` and
//! `delivered` (BOOL). A user's notifications are one partition: `list`
//! and `undelivered` are one `Query` of it (ordered by time in memory, as
//! ids need not be); each is marked delivered once sent.

use aws_sdk_dynamodb::{Client, error::SdkError, types::AttributeValue};
use notifications::{
    Notification, NotificationStore,
    store::{newest_first, oldest_first},
};
use std::collections::HashMap;
use xws::BoxError;
use xws_aws::registry::create_table_if_missing;

type Item = HashMap<String, AttributeValue>;

/// Notifications in a DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn string(item: &Item, name: &str) -> Result<String, BoxError> {
    match item.get(name).map(AttributeValue::as_s) {
        Some(Ok(value)) => Ok(value.clone()),
        _ => Err(format!("notification item without a string `{name}`").into()),
    }
}

fn flag(item: &Item, name: &str) -> bool {
    item.get(name)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .unwrap_or(false)
}

fn notification(item: &Item) -> Result<Notification, BoxError> {
    let created_at = match item.get("created_at").map(AttributeValue::as_n) {
        Some(Ok(n)) => n.parse()?,
        _ => return Err("notification item without a numeric `created_at`".into()),
    };
    Ok(Notification {
        id: string(item, "id")?,
        user: string(item, "user")?,
        title: string(item, "title")?,
        body: string(item, "body")?,
        created_at,
        read: flag(item, "read"),
    })
}

/// Whether `error` is a failed condition (the item is not as required).
fn condition_failed<E, R>(error: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error
        .as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

impl DynamoStore {
    /// The store in `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table `NOTIFICATIONS_TABLE` names, with the SDK configured from
    /// the environment (`AWS_ENDPOINT_URL_DYNAMODB` for local runs). With
    /// `XWS_CREATE_TABLE=1` (local runs) the table is created if missing;
    /// deployments create it from the template.
    pub async fn from_env() -> Result<Self, BoxError> {
        let table = std::env::var("NOTIFICATIONS_TABLE")
            .map_err(|_| "NOTIFICATIONS_TABLE (the DynamoDB table) is not set")?;
        let sdk = xws_aws::sdk_config().await;
        let store = Self::new(Client::new(&sdk), table);
        if std::env::var("XWS_CREATE_TABLE").is_ok_and(|v| v == "1") {
            store.create_if_missing().await?;
        }
        Ok(store)
    }

    /// Creates the table (on-demand, keys `user` and `id`) unless it exists.
    pub async fn create_if_missing(&self) -> Result<(), BoxError> {
        create_table_if_missing(&self.client, &self.table, "user", "id").await?;
        Ok(())
    }

    /// Every item of `user`'s partition.
    async fn items(&self, user: &str) -> Result<Vec<Item>, BoxError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#user = :user")
                .expression_attribute_names("#user", "user")
                .expression_attribute_values(":user", s(user))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Sets `attribute` to true on `user`'s `id` if the item exists (and,
    /// with `only_if_false`, if it was false); whether it did.
    async fn set_flag(
        &self,
        user: &str,
        id: &str,
        attribute: &str,
        only_if_false: bool,
    ) -> Result<bool, BoxError> {
        let condition = if only_if_false {
            "attribute_exists(#id) AND #flag = :false"
        } else {
            "attribute_exists(#id)"
        };
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("user", s(user))
            .key("id", s(id))
            .update_expression("SET #flag = :true")
            .condition_expression(condition)
            .expression_attribute_names("#id", "id")
            .expression_attribute_names("#flag", attribute)
            .expression_attribute_values(":true", AttributeValue::Bool(true));
        if only_if_false {
            update = update.expression_attribute_values(":false", AttributeValue::Bool(false));
        }
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

impl NotificationStore for DynamoStore {
    async fn insert(&self, n: &Notification) -> Result<(), BoxError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("user", s(&n.user))
            .item("id", s(&n.id))
            .item("title", s(&n.title))
            .item("body", s(&n.body))
            .item("created_at", AttributeValue::N(n.created_at.to_string()))
            .item("read", AttributeValue::Bool(n.read))
            .item("delivered", AttributeValue::Bool(false))
            .send()
            .await?;
        Ok(())
    }

    async fn mark_delivered(&self, user: &str, ids: &[String]) -> Result<(), BoxError> {
        for id in ids {
            self.set_flag(user, id, "delivered", false).await?;
        }
        Ok(())
    }

    async fn undelivered(&self, user: &str) -> Result<Vec<Notification>, BoxError> {
        let mut missed = self
            .items(user)
            .await?
            .iter()
            .filter(|item| !flag(item, "delivered"))
            .map(notification)
            .collect::<Result<Vec<_>, _>>()?;
        oldest_first(&mut missed);
        Ok(missed)
    }

    async fn mark_read(&self, user: &str, id: &str) -> Result<bool, BoxError> {
        self.set_flag(user, id, "read", false).await
    }

    async fn list(&self, user: &str, limit: usize) -> Result<Vec<Notification>, BoxError> {
        let mut all = self
            .items(user)
            .await?
            .iter()
            .map(notification)
            .collect::<Result<Vec<_>, _>>()?;
        newest_first(&mut all);
        all.truncate(limit);
        Ok(all)
    }
}
