//! The Tokio server bounds its background work: at most
//! `MAX_RUNNING_IMPORTS` imports run at once, the next start answers 503
//! instead of spawning one more task, and a finished import frees its place.

use import_progress::scenarios::{Endpoints, WAIT, unique_user};
use import_progress::server::MAX_RUNNING_IMPORTS;
use serde_json::json;
use std::time::Duration;
use tokio::net::TcpListener;
use xws_testkit::client::post_json;

async fn start(step_delay: Duration) -> Endpoints {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(import_progress::server::serve(
        listener,
        step_delay,
        std::future::pending(),
    ));
    Endpoints::at(&format!("http://{addr}"))
}

async fn start_import(target: &Endpoints, total: u64) -> u16 {
    let url = target.route("/api/start-import", &unique_user("bounded"), "");
    post_json(&url, &json!({ "total": total }), WAIT)
        .await
        .unwrap()
        .status
        .as_u16()
}

#[tokio::test]
async fn imports_past_the_limit_are_refused_until_one_ends() {
    // Steps of 1 s: the first import (10 records, a batch each) runs for
    // 10 s, long enough for the others to reach the limit on a loaded
    // machine (with 300 ms it had ended before the 64th start, and the
    // one past the limit was accepted); the others (20 batches) for 20 s.
    let target = start(Duration::from_secs(1)).await;
    // One shorter import first, then long ones up to the limit.
    assert_eq!(start_import(&target, 10).await, 202);
    for n in 1..MAX_RUNNING_IMPORTS {
        assert_eq!(start_import(&target, 10_000).await, 202, "import {n}");
    }
    assert_eq!(start_import(&target, 1).await, 503, "one past the limit");
    // The shorter import completes and frees its place.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10) + WAIT;
    loop {
        match start_import(&target, 1).await {
            202 => break,
            503 if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            status => panic!("expected a place to free up, got {status}"),
        }
    }
}
