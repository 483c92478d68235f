//! The chat worker with `CHAT_JWKS_URL` under real workerd: `cargo xtask
//! test cloudflare` serves the chat worker a third time with the URL of a
//! server of xws-auth's test keys (`xtask/src/cloudflare/workers.rs` sets
//! the same audience) and gives its URL in `XWS_CF_CHAT_JWKS_URL`. The
//! Worker fetches the set through `worker::Fetch`.

/// Its `CHAT_JWT_AUDIENCE`.
const AUDIENCE: &str = "xws-chat-workerd-jwks";

#[tokio::test]
async fn jwks_tokens_open_as_their_sub() {
    let url = std::env::var("XWS_CF_CHAT_JWKS_URL").expect(
        "XWS_CF_CHAT_JWKS_URL must point at `wrangler dev`; run `cargo xtask test cloudflare`",
    );
    chat::scenarios::jwks_tokens_open_as_their_sub(&url, AUDIENCE)
        .await
        .unwrap();
}
