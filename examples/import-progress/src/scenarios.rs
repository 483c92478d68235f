//! The import-progress scenarios, run against every target's deployment
//! (Tokio in this crate's tests, workerd and the AWS emulator in theirs).

use serde_json::{Value, json};
use xws_testkit::client::{WsClient, post_json, post_raw};
use xws_testkit::{ScenarioError, ensure_eq};

pub use per_user::scenarios::{Endpoints, WAIT, unique_user};

/// Starts an import of `total` records for `user`; checks the 202.
pub async fn start(target: &Endpoints, user: &str, total: u64) -> Result<(), ScenarioError> {
    let url = target.route("/api/start-import", user, "");
    let reply = post_json(&url, &json!({ "total": total }), WAIT).await?;
    ensure_eq("start-import status", 202, reply.status.as_u16())?;
    ensure_eq(
        "start-import reply",
        json!({ "user": user, "total": total }),
        reply.json()?,
    )
}

/// Reads one import's events up to its completion; fails unless progress
/// rises strictly to `total` and ends with `import-complete`.
pub async fn follow(client: &mut WsClient, total: u64) -> Result<Vec<Value>, ScenarioError> {
    let mut events = Vec::new();
    let mut current = 0;
    loop {
        let event = client
            .recv_json_matching("an import event", |v| {
                v["type"].as_str().is_some_and(|t| t.starts_with("import-"))
            })
            .await?;
        events.push(event.clone());
        match event["type"].as_str() {
            Some("import-progress") => {
                ensure_eq(
                    "total of a progress event",
                    Some(total),
                    event["total"].as_u64(),
                )?;
                let now = event["current"].as_u64().unwrap_or(0);
                if now <= current || now > total {
                    return Err(ScenarioError::mismatch(
                        format!("{}: progress", client.label()),
                        format!("current rising from {current} to at most {total}"),
                        event.to_string(),
                    ));
                }
                ensure_eq(
                    "percent",
                    Some(now * 100 / total),
                    event["progress"].as_u64(),
                )?;
                current = now;
            }
            _ => {
                ensure_eq("records done before completion", total, current)?;
                ensure_eq(
                    "completion",
                    json!({"type":"import-complete","total":total}),
                    event,
                )?;
                return Ok(events);
            }
        }
    }
}

/// Progress reaches every connection of its user, in order, ending with
/// completion, and no connection of another user.
pub async fn progress_reaches_only_its_user(target: &Endpoints) -> Result<(), ScenarioError> {
    let ada = unique_user("ada");
    let bob = unique_user("bob");
    let mut first_tab = target.connect(&ada, "ada's first tab").await?;
    let mut second_tab = target.connect(&ada, "ada's second tab").await?;
    let mut other = target.connect(&bob, "bob").await?;

    // A one-record import first proves every subscription is in place.
    start(target, &ada, 1).await?;
    follow(&mut first_tab, 1).await?;
    follow(&mut second_tab, 1).await?;

    start(target, &ada, 40).await?;
    let seen_first = follow(&mut first_tab, 40).await?;
    let seen_second = follow(&mut second_tab, 40).await?;
    ensure_eq("both tabs see the same events", &seen_first, &seen_second)?;

    // Bob's own one-record import: anything of ada's would arrive before it.
    start(target, &bob, 1).await?;
    follow(&mut other, 1).await?;
    let leaked: Vec<_> = other
        .passed_over()
        .iter()
        .filter_map(|frame| frame.json())
        .filter(|v| v["type"].as_str().is_some_and(|t| t.starts_with("import-")))
        .collect();
    ensure_eq("ada's events seen by bob", 0, leaked.len())
}

/// Requests without a token (401), or with a bad body (400), are refused
/// and start nothing; so are upgrades without a valid token.
pub async fn bad_requests_are_refused(target: &Endpoints) -> Result<(), ScenarioError> {
    let no_user = post_json(
        &format!("{}/api/start-import", target.http),
        &json!({}),
        WAIT,
    )
    .await?;
    ensure_eq("start-import without a token", 401, no_user.status.as_u16())?;
    let ada = unique_user("ada");
    let url = target.route("/api/start-import", &ada, "");
    let malformed = post_raw(&url, "{\"total\":", WAIT).await?;
    ensure_eq(
        "start-import with malformed JSON",
        400,
        malformed.status.as_u16(),
    )?;
    let huge = post_json(&url, &json!({ "total": 1_000_000 }), WAIT).await?;
    ensure_eq(
        "start-import of too many records",
        400,
        huge.status.as_u16(),
    )?;
    target.refuses_anonymous_upgrades().await
}

/// The scenarios as `#[tokio::test]` functions, against the [`Endpoints`]
/// `$target` evaluates to (once per test): every target's test file is
/// this one line.
#[macro_export]
macro_rules! scenario_tests {
    ($target:expr) => {
        #[tokio::test]
        async fn progress_reaches_only_its_user_in_order_ending_with_complete() {
            let target = $target;
            $crate::scenarios::progress_reaches_only_its_user(&target)
                .await
                .unwrap();
        }

        #[tokio::test]
        async fn bad_requests_are_refused() {
            let target = $target;
            $crate::scenarios::bad_requests_are_refused(&target)
                .await
                .unwrap();
        }
    };
}
