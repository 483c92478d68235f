//! The import-progress scenarios under real workerd (`wrangler dev
//! --local`): each user's imports run in that user's Durable Object,
//! advanced by alarms.
//!
//! `cargo xtask test cloudflare` builds the Worker, starts `wrangler dev`
//! and runs these tests with `XWS_CF_IMPORT_PROGRESS_URL` set. Run by hand
//! without it, they fail: they never skip.

use import_progress::scenarios::Endpoints;

fn target() -> Endpoints {
    let url = std::env::var("XWS_CF_IMPORT_PROGRESS_URL").expect(
        "XWS_CF_IMPORT_PROGRESS_URL must point at `wrangler dev`; run `cargo xtask test cloudflare`",
    );
    Endpoints::at(&url)
}

import_progress::scenario_tests!(target());

/// The object refuses a body over the limit (its declared length, or what
/// it read). That the Worker answers 401 before reading a body cannot be
/// shown under `wrangler dev`: its middleware drains every request body
/// before the response goes out (the Tokio test shows the route's order).
#[tokio::test]
async fn start_import_refuses_a_body_over_the_limit_with_413() {
    target()
        .refuses_a_body_over("/api/start-import", import_progress::BODY_LIMIT)
        .await
        .unwrap();
}
