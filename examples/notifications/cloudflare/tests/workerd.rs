//! The notifications scenarios under real workerd (`wrangler dev --local`):
//! each user's notifications live in that user's Durable Object storage.
//!
//! `cargo xtask test cloudflare` builds the Worker, starts `wrangler dev`
//! (with `XWS_DEBUG=1`, for the contract route) and runs these tests with
//! `XWS_CF_NOTIFICATIONS_URL` set. Run by hand without it, they fail: they
//! never skip.

use notifications::scenarios::{Endpoints, WAIT};
use xws_testkit::client::get;

fn target() -> Endpoints {
    let url = std::env::var("XWS_CF_NOTIFICATIONS_URL").expect(
        "XWS_CF_NOTIFICATIONS_URL must point at `wrangler dev`; run `cargo xtask test cloudflare`",
    );
    Endpoints::at(&url)
}

#[tokio::test]
async fn durable_object_storage_keeps_the_store_contract() {
    let reply = get(&format!("{}/api/__contract", target().http), WAIT)
        .await
        .unwrap();
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

notifications::scenario_tests!(target());

/// The object refuses a body over the limit (its declared length, or what
/// it read). That the Worker answers 401 before reading a body cannot be
/// shown under `wrangler dev`: its middleware drains every request body
/// before the response goes out (the Tokio test shows the route's order).
#[tokio::test]
async fn notify_refuses_a_body_over_the_limit_with_413() {
    target()
        .refuses_a_body_over("/api/notify", notifications::BODY_LIMIT)
        .await
        .unwrap();
}
