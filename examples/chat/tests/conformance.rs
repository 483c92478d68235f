//! The conformance suite against the Tokio chat, in-process: one test per scenario, each
//! with its own server on an ephemeral port, once open and once behind `CHAT_TOKEN`.

use chat::ChatHandler;
use xws_testkit::Target;
use xws_tokio::Xws;

/// Starts the chat on `127.0.0.1:0` in the current runtime; it lives as long as the test.
async fn chat_on_ephemeral_port(token: Option<&str>) -> Target {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind an ephemeral port");
    let addr = listener.local_addr().expect("local address");
    let xws = Xws::new(ChatHandler::new(token.map(str::to_owned)));
    tokio::spawn(chat::server::serve(listener, xws, std::future::pending()));
    let target = Target::single(addr);
    match token {
        Some(token) => target.with_token(token),
        None => target,
    }
}

mod open {
    async fn target() -> xws_testkit::Target {
        super::chat_on_ephemeral_port(None).await
    }
    xws_testkit::conformance_tests!(target);
}

mod with_token {
    async fn target() -> xws_testkit::Target {
        super::chat_on_ephemeral_port(Some("s3cret token")).await
    }
    xws_testkit::conformance_tests!(target);
}
