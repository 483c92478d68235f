//! The portable conformance suite (`xws-testkit`), history and presence
//! scenarios included, against the chat under real workerd. `cargo xtask
//! test` starts `wrangler dev --local` and sets `XWS_CF_URL` and
//! `XWS_CF_TOKEN`; without them every scenario fails.

use std::time::Duration;

async fn cloudflare() -> xws_testkit::Target {
    let url = std::env::var("XWS_CF_URL")
        .expect("XWS_CF_URL must point at `wrangler dev`; run `cargo xtask test`");
    let token = std::env::var("XWS_CF_TOKEN").expect("XWS_CF_TOKEN must be set");
    let addr = url.trim_start_matches("http://").to_owned();
    // workerd forwards each frame through wrangler's proxy and the object:
    // slower than an in-process server, so waits are longer.
    xws_testkit::Target::single(addr)
        .with_token(token)
        .with_timeout(Duration::from_secs(10))
        // `XWS_MAX_TOPICS_PER_PEER` of the test vars (xtask/src/cloudflare/workers.rs).
        .with_max_topics_per_peer(32)
}

xws_testkit::conformance_tests!(cloudflare);
// Rooms keep their history in the Durable Object's SQLite storage.
xws_testkit::history_tests!(cloudflare);
