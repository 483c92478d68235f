//! The chat's signed-token scenarios (`chat::scenarios`) under real workerd:
//! `cargo xtask test cloudflare` serves the chat worker a second time with
//! the vars below (`xtask/src/cloudflare/workers.rs` sets the same values)
//! and gives its URL in `XWS_CF_CHAT_JWT_URL`.

use chat::scenarios::{JwtTarget, StreamAnswer};

/// Its `CHAT_JWT_SECRET`.
const SECRET: &str = "the workerd test secret, 32 bytes+";
/// Its `CHAT_JWT_AUDIENCE`.
const AUDIENCE: &str = "xws-chat-workerd";
/// Its `CHAT_API_KEY`.
const API_KEY: &str = "the workerd test API key";

fn target() -> JwtTarget {
    let url = std::env::var("XWS_CF_CHAT_JWT_URL").expect(
        "XWS_CF_CHAT_JWT_URL must point at `wrangler dev`; run `cargo xtask test cloudflare`",
    );
    JwtTarget::at(&url, SECRET, AUDIENCE, StreamAnswer::Streams).with_api_key(API_KEY)
}

chat::jwt_tests!(target());

/// The worker runs with `XWS_METRICS = "log"`: what the object logs (a
/// JSON line per metric, in wrangler's output, which the step copies to
/// `XWS_CF_CHAT_JWT_LOG`) counts what two peers did.
#[tokio::test]
async fn metrics_are_logged_as_json_lines() {
    let log = std::env::var("XWS_CF_CHAT_JWT_LOG")
        .expect("XWS_CF_CHAT_JWT_LOG: run `cargo xtask test cloudflare`");
    chat::scenarios::logged_metrics_count_what_peers_did(&target(), log.as_ref())
        .await
        .unwrap();
}
