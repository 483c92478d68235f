//! The import-progress scenarios against the Tokio server, through real
//! sockets.

use import_progress::scenarios::{self, Endpoints};
use std::time::Duration;
use tokio::net::TcpListener;

async fn start() -> Endpoints {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(import_progress::server::serve(
        listener,
        Duration::from_millis(5),
        std::future::pending(),
    ));
    Endpoints::at(&format!("http://{addr}"))
}

#[tokio::test]
async fn progress_reaches_only_its_user_in_order_ending_with_complete() {
    let target = start().await;
    scenarios::progress_reaches_only_its_user(&target)
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_requests_are_refused_with_400() {
    let target = start().await;
    scenarios::bad_requests_are_refused(&target).await.unwrap();
}
