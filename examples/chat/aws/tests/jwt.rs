//! The chat's signed-token scenarios (`chat::scenarios`) on the local AWS
//! stack: `cargo xtask test-aws chat` deploys the functions a second time
//! with `CHAT_JWT_SECRET`, `CHAT_JWT_AUDIENCE` and `CHAT_API_KEY`
//! (`xtask/src/aws.rs`) and runs these with the same variables;
//! `XWS_AWS_EMULATOR` is the emulator's `host:port`.

use chat::scenarios::{JwtTarget, StreamAnswer};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name}: run `cargo xtask test-aws chat`"))
}

fn target() -> JwtTarget {
    let url = format!("http://{}", var("XWS_AWS_EMULATOR"));
    // API Gateway cannot stream: an allowed stream answers 501.
    JwtTarget::at(
        &url,
        &var("CHAT_JWT_SECRET"),
        &var("CHAT_JWT_AUDIENCE"),
        StreamAnswer::NotAvailable,
    )
    .with_api_key(&var("CHAT_API_KEY"))
}

chat::jwt_tests!(target());

/// The functions run with `XWS_METRICS=emf`: the CloudWatch EMF documents
/// the WebSocket function prints (which the step copies to
/// `XWS_AWS_WS_LOG`) count what two peers did.
#[tokio::test]
async fn metrics_are_printed_as_cloudwatch_emf() {
    let log = var("XWS_AWS_WS_LOG");
    chat::scenarios::logged_metrics_count_what_peers_did(&target(), log.as_ref())
        .await
        .unwrap();
}
