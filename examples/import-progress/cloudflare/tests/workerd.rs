//! The import-progress scenarios under real workerd (`wrangler dev
//! --local`): each user's imports run in that user's Durable Object,
//! advanced by alarms.
//!
//! `cargo xtask test cloudflare` builds the Worker, starts `wrangler dev`
//! and runs these tests with `XWS_CF_IMPORT_PROGRESS_URL` set. Run by hand
//! without it, they fail: they never skip.

use import_progress::scenarios::{self, Endpoints};

fn target() -> Endpoints {
    let url = std::env::var("XWS_CF_IMPORT_PROGRESS_URL").expect(
        "XWS_CF_IMPORT_PROGRESS_URL must point at `wrangler dev`; run `cargo xtask test cloudflare`",
    );
    Endpoints::at(&url)
}

#[tokio::test]
async fn progress_reaches_only_its_user_in_order_ending_with_complete() {
    scenarios::progress_reaches_only_its_user(&target())
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_requests_are_refused_with_400() {
    scenarios::bad_requests_are_refused(&target())
        .await
        .unwrap();
}
