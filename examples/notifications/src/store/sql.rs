//! Notifications in SQLite (embedded, the default) or PostgreSQL, through
//! sqlx's `Any` driver: one set of statements, the database chosen by URL.

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use xws::BoxError;

use super::{NotificationStore, oldest_first};
use crate::Notification;

/// Flags are stored as 0/1 integers, which both databases read alike.
const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS xws_notifications (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        is_read BIGINT NOT NULL DEFAULT 0,
        delivered BIGINT NOT NULL DEFAULT 0
    )",
    "CREATE INDEX IF NOT EXISTS xws_notifications_by_user
        ON xws_notifications (user_id, delivered, created_at)",
];

const COLUMNS: &str = "id, user_id, title, body, created_at, is_read";

/// A SQL store; the tables are created on [`connect`](Self::connect).
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: AnyPool,
}

impl SqlStore {
    /// Connects to `url` (`sqlite:notifications.db?mode=rwc`,
    /// `sqlite::memory:`, `postgres://…`) and creates the table if needed.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        // An in-memory SQLite database exists once per connection.
        let connections = if url.contains(":memory:") { 1 } else { 5 };
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            .connect(url)
            .await?;
        for statement in SCHEMA {
            sqlx::query(statement).execute(&pool).await?;
        }
        Ok(Self { pool })
    }

    /// The store `DATABASE_URL` names, else `notifications.db` (SQLite) in
    /// the working directory.
    pub async fn from_env() -> Result<Self, sqlx::Error> {
        let url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "sqlite:notifications.db?mode=rwc".into());
        Self::connect(&url).await
    }
}

fn from_row(row: &AnyRow) -> Result<Notification, sqlx::Error> {
    Ok(Notification {
        id: row.try_get("id")?,
        user: row.try_get("user_id")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        created_at: u64::try_from(row.try_get::<i64, _>("created_at")?).unwrap_or(0),
        read: row.try_get::<i64, _>("is_read")? != 0,
    })
}

fn rows(rows: &[AnyRow]) -> Result<Vec<Notification>, sqlx::Error> {
    rows.iter().map(from_row).collect()
}

impl NotificationStore for SqlStore {
    async fn insert(&self, n: &Notification) -> Result<(), BoxError> {
        sqlx::query(
            "INSERT INTO xws_notifications (id, user_id, title, body, created_at, is_read)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&n.id)
        .bind(&n.user)
        .bind(&n.title)
        .bind(&n.body)
        .bind(i64::try_from(n.created_at)?)
        .bind(i64::from(n.read))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One statement per 500 ids: a replay of a thousand marks them in
    /// two, not a thousand round trips.
    async fn mark_delivered(&self, user: &str, ids: &[String]) -> Result<(), BoxError> {
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
            let statement = format!(
                "UPDATE xws_notifications SET delivered = 1 WHERE user_id = $1 AND id IN ({})",
                placeholders.join(", ")
            );
            let mut update = sqlx::query(&statement).bind(user);
            for id in chunk {
                update = update.bind(id);
            }
            update.execute(&self.pool).await?;
        }
        Ok(())
    }

    async fn undelivered(&self, user: &str) -> Result<Vec<Notification>, BoxError> {
        let missed = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM xws_notifications WHERE user_id = $1 AND delivered = 0"
        ))
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        let mut missed = rows(&missed)?;
        oldest_first(&mut missed);
        Ok(missed)
    }

    async fn mark_read(&self, user: &str, id: &str) -> Result<bool, BoxError> {
        let done =
            sqlx::query("UPDATE xws_notifications SET is_read = 1 WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list(&self, user: &str, limit: usize) -> Result<Vec<Notification>, BoxError> {
        let listed = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM xws_notifications WHERE user_id = $1
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(user)
        .bind(i64::try_from(limit)?)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows(&listed)?)
    }
}
