//! The notification scenarios, run against every target's deployment
//! (Tokio with SQLite and PostgreSQL in this crate's tests, workerd and
//! the AWS emulator in theirs).

use serde_json::{Value, json};
use xws_testkit::client::{WsClient, get, post_json};
use xws_testkit::{ScenarioError, ensure_eq};

pub use per_user::scenarios::{Endpoints, WAIT, unique_user};

/// Sends a notification titled `title` to `user`; returns the reply.
pub async fn notify(target: &Endpoints, user: &str, title: &str) -> Result<Value, ScenarioError> {
    let url = target.route("/api/notify", user, "");
    let reply = post_json(&url, &json!({ "title": title, "body": "…" }), WAIT).await?;
    ensure_eq("notify status", 201, reply.status.as_u16())?;
    let reply = reply.json()?;
    ensure_eq(
        "notify title",
        Some(title),
        reply["notification"]["title"].as_str(),
    )?;
    Ok(reply)
}

/// Waits until `client`'s connection is open and subscribed: a message is
/// handled only after `open` finished, and an unknown id is answered with
/// an error.
pub async fn ready(client: &mut WsClient) -> Result<(), ScenarioError> {
    client
        .send_json(&json!({ "type": "mark-read", "id": "no-such-id" }))
        .await?;
    client.recv_type("error").await.map(drop)
}

fn notification_titles(frames: &[Value], missed: bool) -> Vec<String> {
    frames
        .iter()
        .filter(|v| v["type"] == "notification" && v["missed"] == missed)
        .filter_map(|v| v["notification"]["title"].as_str().map(str::to_owned))
        .collect()
}

/// Everything `client` receives until a `read` for `marker_id`, which the
/// scenario sends to end a phase: frames before it are all there is.
async fn drain_until_read(
    target: &Endpoints,
    client: &mut WsClient,
    user: &str,
    marker_id: &str,
) -> Result<Vec<Value>, ScenarioError> {
    let url = target.route("/api/mark-read", user, &format!("id={marker_id}"));
    let reply = post_json(&url, &json!({}), WAIT).await?;
    ensure_eq("mark-read status", 200, reply.status.as_u16())?;
    client
        .recv_json_matching("the phase's closing read", |v| {
            v["type"] == "read" && v["id"] == marker_id
        })
        .await?;
    Ok(client
        .passed_over()
        .iter()
        .filter_map(|f| f.json().cloned())
        .collect())
}

/// Notifications stored while the user was offline arrive on the next
/// connect, once, in order; a later connect gets none of them again; live
/// ones are not replayed either.
pub async fn missed_arrive_once(target: &Endpoints) -> Result<(), ScenarioError> {
    let user = unique_user("carol");
    for title in ["first", "second", "third"] {
        let sent = notify(target, &user, title).await?;
        ensure_eq(
            "delivered live while offline",
            Some(0),
            sent["delivered"].as_u64(),
        )?;
    }

    let mut tab = target.connect(&user, "carol after being offline").await?;
    let mut missed = Vec::new();
    for _ in 0..3 {
        missed.push(tab.recv_type("notification").await?);
    }
    ensure_eq(
        "missed notifications, in order",
        vec!["first", "second", "third"],
        missed
            .iter()
            .filter_map(|v| v["notification"]["title"].as_str())
            .collect(),
    )?;
    ensure_eq(
        "all flagged missed",
        true,
        missed.iter().all(|v| v["missed"] == true),
    )?;

    // Live while connected: delivered, so never replayed.
    let live = notify(target, &user, "live").await?;
    ensure_eq(
        "delivered live while online",
        Some(1),
        live["delivered"].as_u64(),
    )?;
    let got = tab.recv_type("notification").await?;
    ensure_eq(
        "the live one",
        (Some("live"), false),
        (got["notification"]["title"].as_str(), got["missed"] == true),
    )?;
    let marker = live["notification"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    drain_until_read(target, &mut tab, &user, &marker).await?;
    drop(tab);

    let mut again = target.connect(&user, "carol reconnecting").await?;
    ready(&mut again).await?;
    let frames = drain_until_read(target, &mut again, &user, &marker).await?;
    ensure_eq(
        "replayed on a second connect",
        Vec::<String>::new(),
        notification_titles(&frames, true),
    )?;
    ensure_eq(
        "live ones replayed",
        Vec::<String>::new(),
        notification_titles(&frames, false),
    )?;

    let listed = get(&target.route("/api/notifications", &user, ""), WAIT)
        .await?
        .json()?;
    let titles: Vec<_> = listed["notifications"]
        .as_array()
        .map(|all| all.iter().filter_map(|n| n["title"].as_str()).collect())
        .unwrap_or_default();
    ensure_eq(
        "stored, newest first",
        vec!["live", "third", "second", "first"],
        titles,
    )
}

/// A notification reaches every tab live; marking it read in one tab
/// reaches the other; another user sees none of it.
pub async fn read_reaches_every_tab(target: &Endpoints) -> Result<(), ScenarioError> {
    let user = unique_user("dan");
    let stranger = unique_user("eve");
    let mut first_tab = target.connect(&user, "dan's first tab").await?;
    let mut second_tab = target.connect(&user, "dan's second tab").await?;
    let mut other = target.connect(&stranger, "eve").await?;

    for tab in [&mut first_tab, &mut second_tab, &mut other] {
        ready(tab).await?;
    }
    let sent = notify(target, &user, "hello").await?;
    ensure_eq(
        "delivered to both tabs",
        Some(2),
        sent["delivered"].as_u64(),
    )?;
    let id = sent["notification"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for tab in [&mut first_tab, &mut second_tab] {
        let got = tab.recv_type("notification").await?;
        ensure_eq(
            "live notification id",
            Some(id.as_str()),
            got["notification"]["id"].as_str(),
        )?;
    }

    first_tab
        .send_json(&json!({ "type": "mark-read", "id": id }))
        .await?;
    for tab in [&mut first_tab, &mut second_tab] {
        let read = tab.recv_type("read").await?;
        ensure_eq("read id", Some(id.as_str()), read["id"].as_str())?;
    }
    first_tab.send_text("{not json").await?;
    first_tab.recv_type("error").await?;

    let listed = get(&target.route("/api/notifications", &user, ""), WAIT)
        .await?
        .json()?;
    ensure_eq(
        "stored as read",
        Some(true),
        listed["notifications"][0]["read"].as_bool(),
    )?;

    // Eve's own notification ends her phase; anything of dan's came before.
    notify(target, &stranger, "for eve").await?;
    other.recv_type("notification").await?;
    let leaked = other.passed_over().iter().filter_map(|f| f.json()).count();
    ensure_eq("frames of dan's seen by eve", 0, leaked)
}

/// Bad requests get 401 (no token), 400 or 404 with a reason and store
/// nothing; upgrades without a valid token are refused.
pub async fn bad_requests_are_refused(target: &Endpoints) -> Result<(), ScenarioError> {
    let user = unique_user("fay");
    let no_user = post_json(
        &format!("{}/api/notify", target.http),
        &json!({"title":"x"}),
        WAIT,
    )
    .await?;
    ensure_eq("notify without a token", 401, no_user.status.as_u16())?;
    let url = target.route("/api/notify", &user, "");
    let untitled = post_json(&url, &json!({ "body": "no title" }), WAIT).await?;
    ensure_eq("notify without a title", 400, untitled.status.as_u16())?;
    let unknown = post_json(
        &target.route("/api/mark-read", &user, "id=nope"),
        &json!({}),
        WAIT,
    )
    .await?;
    ensure_eq("mark-read of an unknown id", 404, unknown.status.as_u16())?;
    let listed = get(&target.route("/api/notifications", &user, ""), WAIT)
        .await?
        .json()?;
    ensure_eq(
        "nothing stored",
        Some(0),
        listed["notifications"].as_array().map(Vec::len),
    )?;
    target.refuses_anonymous_upgrades().await
}

/// The scenarios as `#[tokio::test]` functions, against the [`Endpoints`]
/// `$target` evaluates to (once per test): every target's test file is
/// this one line, plus its own store's contract check.
#[macro_export]
macro_rules! scenario_tests {
    ($target:expr) => {
        #[tokio::test]
        async fn missed_notifications_arrive_on_reconnect_exactly_once() {
            let target = $target;
            $crate::scenarios::missed_arrive_once(&target)
                .await
                .unwrap();
        }

        #[tokio::test]
        async fn marking_read_reaches_every_tab() {
            let target = $target;
            $crate::scenarios::read_reaches_every_tab(&target)
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
