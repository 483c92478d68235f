//! What every [`NotificationStore`] must do, as one check each store's tests
//! run against the real backend (SQLite, PostgreSQL, Durable Object
//! storage, DynamoDB).

use super::NotificationStore;
use crate::Notification;

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
        error: xws::BoxError,
    },
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

fn failed(what: &'static str) -> impl FnOnce(xws::BoxError) -> Violation {
    move |error| Violation::Failed { what, error }
}

fn ids(notifications: &[Notification]) -> Vec<&str> {
    notifications.iter().map(|n| n.id.as_str()).collect()
}

fn sample(user: &str, n: u64) -> Notification {
    Notification {
        id: format!("{user}-n{n}"),
        user: user.to_owned(),
        title: format!("title {n}"),
        body: format!("body {n}"),
        created_at: 1_000 + n,
        read: false,
    }
}

/// Checks the contract with users no other run uses (a persistent store
/// keeps what earlier runs wrote).
pub async fn check(store: &impl NotificationStore) -> Result<(), Violation> {
    let stamp = web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    check_as(store, &format!("contract-{stamp:x}")).await
}

/// Checks the contract for users named after `prefix`, which must be new
/// to the store.
pub async fn check_as(store: &impl NotificationStore, prefix: &str) -> Result<(), Violation> {
    let ada = format!("{prefix}-ada");
    let bob = format!("{prefix}-bob");
    let (first, second, third) = (sample(&ada, 1), sample(&ada, 2), sample(&ada, 3));
    let theirs = sample(&bob, 1);
    // Inserted out of order: the store orders by time, not arrival.
    for n in [&second, &first, &third, &theirs] {
        store.insert(n).await.map_err(failed("insert"))?;
    }
    store
        .mark_delivered(&ada, std::slice::from_ref(&third.id))
        .await
        .map_err(failed("mark_delivered"))?;
    // Someone else's id does not mark anything.
    store
        .mark_delivered(&bob, std::slice::from_ref(&second.id))
        .await
        .map_err(failed("mark_delivered"))?;

    let missed = store
        .undelivered(&ada)
        .await
        .map_err(failed("undelivered"))?;
    expect(
        "undelivered, oldest first",
        vec![first.clone(), second.clone()],
        missed,
    )?;
    let again = store
        .undelivered(&ada)
        .await
        .map_err(failed("undelivered"))?;
    expect(
        "reading them does not mark them delivered",
        vec![first.id.as_str(), second.id.as_str()],
        ids(&again),
    )?;
    store
        .mark_delivered(&ada, std::slice::from_ref(&first.id))
        .await
        .map_err(failed("mark_delivered"))?;
    let left = store
        .undelivered(&ada)
        .await
        .map_err(failed("undelivered"))?;
    expect(
        "marked delivered, it is not replayed",
        vec![second.id.as_str()],
        ids(&left),
    )?;

    expect(
        "marking an existing notification read",
        true,
        store
            .mark_read(&ada, &second.id)
            .await
            .map_err(failed("mark_read"))?,
    )?;
    expect(
        "marking an unknown id read",
        false,
        store
            .mark_read(&ada, "no-such-id")
            .await
            .map_err(failed("mark_read"))?,
    )?;
    expect(
        "marking another user's notification read",
        false,
        store
            .mark_read(&ada, &theirs.id)
            .await
            .map_err(failed("mark_read"))?,
    )?;

    let listed = store.list(&ada, 10).await.map_err(failed("list"))?;
    expect(
        "list, newest first",
        vec![&third.id, &second.id, &first.id],
        listed.iter().map(|n| &n.id).collect(),
    )?;
    expect(
        "read flags",
        vec![false, true, false],
        listed.iter().map(|n| n.read).collect(),
    )?;
    let limited = store.list(&ada, 2).await.map_err(failed("list"))?;
    expect(
        "list honours its limit",
        vec![third.id.as_str(), second.id.as_str()],
        ids(&limited),
    )?;
    let other = store.list(&bob, 10).await.map_err(failed("list"))?;
    expect("another user's list", vec![theirs], other)?;
    Ok(())
}
