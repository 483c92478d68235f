//! The notification scenarios against the Tokio server over SQLite and
//! over PostgreSQL, through real sockets, and the store contract on both
//! databases.

use notifications::scenarios::{self, Endpoints};
use notifications::store::{SqlStore, contract};
use tokio::net::TcpListener;

/// PostgreSQL runs on every machine of this project; `DATABASE_URL`
/// points elsewhere.
fn postgres_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

async fn sqlite() -> SqlStore {
    let dir = std::env::temp_dir().join(format!("xws-notifications-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}.db", scenarios::unique_user("db")));
    SqlStore::connect(&format!("sqlite:{}?mode=rwc", file.display()))
        .await
        .expect("opening a SQLite file")
}

async fn postgres() -> SqlStore {
    let url = postgres_url();
    SqlStore::connect(&url).await.unwrap_or_else(|error| {
        panic!("PostgreSQL is needed at {url} (set DATABASE_URL to another): {error}")
    })
}

async fn serve(store: SqlStore) -> Endpoints {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(notifications::server::serve(
        listener,
        store,
        std::future::pending(),
    ));
    Endpoints::at(&format!("http://{addr}"))
}

#[tokio::test]
async fn sqlite_keeps_the_store_contract() {
    contract::check(&sqlite().await).await.unwrap();
}

#[tokio::test]
async fn postgres_keeps_the_store_contract() {
    contract::check(&postgres().await).await.unwrap();
}

// The scenarios over SQLite, the default store.
notifications::scenario_tests!(serve(sqlite().await).await);

#[tokio::test]
async fn missed_notifications_arrive_once_with_postgres() {
    scenarios::missed_arrive_once(&serve(postgres().await).await)
        .await
        .unwrap();
}

/// A server restarted on the same database still replays what was missed.
#[tokio::test]
async fn missed_notifications_survive_a_restart() {
    let dir =
        std::env::temp_dir().join(format!("xws-notifications-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:{}?mode=rwc", dir.join("restart.db").display());
    let user = scenarios::unique_user("gus");
    let before = serve(SqlStore::connect(&url).await.unwrap()).await;
    scenarios::notify(&before, &user, "while away")
        .await
        .unwrap();
    let after = serve(SqlStore::connect(&url).await.unwrap()).await;
    let mut tab = after.connect(&user, "gus").await.unwrap();
    let got = tab.recv_type("notification").await.unwrap();
    assert_eq!(got["notification"]["title"], "while away");
    assert_eq!(got["missed"], true);
}

/// More missed notifications than a peer's queue holds (1,024 messages):
/// the first connection gets what fits and is closed as a slow reader
/// (1013); what it could not take waits for the next connection, so none
/// is lost (each is marked delivered only once it was sent).
#[tokio::test]
async fn missed_notifications_past_the_queue_wait_for_the_next_connect() {
    use notifications::{NewNotification, NotificationStore};
    use std::collections::HashSet;
    use xws_testkit::client::Frame;
    const MISSED: usize = 1_100;
    let store = sqlite().await;
    let user = scenarios::unique_user("hal");
    for n in 0..MISSED {
        let new = NewNotification {
            title: format!("missed {n}"),
            body: String::new(),
        };
        let notification = new.into_notification(&user, format!("n{n:06}"), 1_000 + n as u64);
        store.insert(&notification).await.unwrap();
    }
    let target = serve(store).await;
    let mut per_connection = Vec::new();
    let mut seen = HashSet::new();
    while seen.len() < MISSED && per_connection.len() < 4 {
        let mut tab = target.connect(&user, "hal").await.unwrap();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut got = 0;
        while let Some(frame) = tab.next_frame_until(deadline).await {
            match frame {
                Frame::Json(v) if v["type"] == "notification" => {
                    got += 1;
                    seen.insert(
                        v["notification"]["id"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
                Frame::Close(_) | Frame::Ended(_) => break,
                _ => {}
            }
            if seen.len() == MISSED {
                break;
            }
        }
        per_connection.push(got);
    }
    assert!(
        per_connection[0] < MISSED,
        "the first connection took all {MISSED}: its queue never overflowed ({per_connection:?})"
    );
    assert_eq!(seen.len(), MISSED, "per connection: {per_connection:?}");
}

#[tokio::test]
async fn notify_refuses_a_missing_token_before_reading_the_body() {
    serve(sqlite().await)
        .await
        .answers_401_before_the_body("/api/notify")
        .await
        .unwrap();
}
