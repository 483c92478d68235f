//! The import-progress scenarios against the Tokio server, through real
//! sockets.

use import_progress::scenarios::Endpoints;
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

import_progress::scenario_tests!(start().await);

#[tokio::test]
async fn start_import_refuses_a_missing_token_before_reading_the_body() {
    start()
        .await
        .answers_401_before_the_body("/api/start-import")
        .await
        .unwrap();
}
