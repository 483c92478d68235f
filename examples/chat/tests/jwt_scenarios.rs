//! The signed-token scenarios every target runs (`chat::scenarios`), here
//! against the Tokio chat configured as `CHAT_JWT_SECRET`,
//! `CHAT_JWT_AUDIENCE` and `CHAT_API_KEY` configure it.

use chat::scenarios::{JwtTarget, StreamAnswer};

const SECRET: &str = "a test secret of 32 bytes or more";
const AUDIENCE: &str = "xws-chat-test";
const API_KEY: &str = "the Tokio test API key";

/// The chat on an ephemeral port, configured from settings as the binary
/// is from its environment.
async fn target() -> JwtTarget {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = chat::ChatHandler::from_settings(Some(SECRET), Some(AUDIENCE), None);
    let retention = chat::history::retention_from_env().unwrap();
    let xws = xws_tokio::Xws::new(handler).with_streams(chat::history::stream_config(retention));
    let options = chat::server::Options {
        api_key: Some(API_KEY.to_owned()),
        ..Default::default()
    };
    tokio::spawn(chat::server::serve_with(
        listener,
        xws,
        options,
        std::future::pending(),
    ));
    JwtTarget::at(
        &format!("http://{addr}"),
        SECRET,
        AUDIENCE,
        StreamAnswer::Streams,
    )
    .with_api_key(API_KEY)
}

chat::jwt_tests!(target().await);
