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

/// The Worker checks the token before it forwards the request, so before
/// anything reads the body.
#[tokio::test]
async fn start_import_refuses_a_missing_token_before_reading_the_body() {
    target()
        .answers_401_before_the_body("/api/start-import")
        .await
        .unwrap();
}
