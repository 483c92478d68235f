//! The conformance suite against chat nodes sharing one real Redis: every
//! scenario's peers are spread round-robin over the nodes, so room members,
//! senders, SSE streams and broadcasts sit on different nodes.

mod nodes;

use nodes::{require_redis, start_chat_nodes, unique_channel};
use xws_testkit::Target;

/// `count` chat nodes on ephemeral ports, joined through Redis on a channel
/// of their own; they live as long as the test's runtime.
async fn chat_nodes(count: usize) -> Target {
    let url = require_redis().await;
    let nodes = start_chat_nodes(&url, &unique_channel("conformance"), count).await;
    let target = Target::nodes(nodes.iter().map(|node| node.addr));
    // The servers stop when their handles drop: keep them for the test's life.
    std::mem::forget(nodes);
    target
}

mod two_nodes {
    async fn target() -> xws_testkit::Target {
        super::chat_nodes(2).await
    }
    xws_testkit::conformance_tests!(target);
    xws_testkit::history_tests!(target);
}

mod three_nodes {
    async fn target() -> xws_testkit::Target {
        super::chat_nodes(3).await
    }
    xws_testkit::conformance_tests!(target);
    xws_testkit::history_tests!(target);
}
