//! Notifications on the local AWS stack: moto (DynamoDB: the connections
//! table and the notifications table), the `notifications-ws` and
//! `notifications-http` functions, the `xws-aws-local` emulator. `cargo
//! xtask test-aws notifications` starts the stack and runs these with the
//! `live` feature; `XWS_AWS_EMULATOR` is the emulator's `host:port`.

use notifications::scenarios::Endpoints;
use notifications::store::contract;

fn target() -> Endpoints {
    let emulator = std::env::var("XWS_AWS_EMULATOR")
        .expect("XWS_AWS_EMULATOR: run `cargo xtask test-aws notifications`");
    Endpoints::at(&format!("http://{emulator}"))
}

/// The DynamoDB store keeps the contract every store keeps, on moto.
#[tokio::test]
async fn the_dynamodb_store_keeps_the_contract() {
    let store = notifications_aws::DynamoStore::from_env()
        .await
        .expect("the test environment names the table");
    contract::check(&store).await.unwrap();
}

notifications::scenario_tests!(target());
