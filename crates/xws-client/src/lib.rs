//! # xws-client: a Rust client that survives real networks
//!
//! The Rust twin of the browser's `xws.js`: it reconnects with exponential
//! backoff and jitter, queues what is sent while disconnected (bounded),
//! finds dead connections with the app-level heartbeat (the text
//! `{"xws":"ping"}`, answered by xws servers with `{"xws":"pong"}`, which
//! never reaches the app), and decodes JSON messages into your type.
//!
//! Streams recover by themselves: publications of topics that keep history
//! carry a position (`"offset"`, `"epoch"`), the client remembers the last
//! one per stream, drops what it saw already, and re-sends each
//! [`Client::subscribe`] message with its position after every reconnect,
//! so the server replays what was missed (see `xws::stream`).
//!
//! ```no_run
//! use serde::Deserialize;
//! use xws_client::{ClientConfig, Event};
//!
//! #[derive(Debug, Deserialize)]
//! #[serde(tag = "type", rename_all = "kebab-case")]
//! enum ServerMessage {
//!     Welcome { id: String },
//!     Pong,
//! }
//!
//! # async fn run() -> Result<(), xws_client::SendError> {
//! let mut config = ClientConfig::new("ws://127.0.0.1:3000/api/ws");
//! // Sent first after every (re)connect, before the queue: rejoin rooms here.
//! config.on_open = Some(std::sync::Arc::new(|| {
//!     vec![xws::Message::from(r#"{"type":"join-room","roomId":"lobby"}"#)]
//! }));
//! let (client, mut events) = xws_client::connect::<ServerMessage>(config);
//! client.send_json(&serde_json::json!({ "type": "ping" }))?;
//! while let Some(event) = events.next().await {
//!     match event {
//!         Event::Message(message) => println!("{message:?}"),
//!         Event::Reconnecting { attempt, delay } => println!("retry {attempt} in {delay:?}"),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```

mod backoff;
mod client;
mod config;
mod connection;
mod event;
mod queue;
mod streams;

pub use backoff::Backoff;
pub use client::{Client, Events, State, connect};
pub use config::{ClientConfig, OnOpen};
pub use event::{CloseInfo, Event};
pub use queue::SendError;
pub use streams::{Resubscribe, StreamOf};
/// A place in a stream: what [`Client::position`] returns and a
/// [`Resubscribe`] gets.
pub use xws::stream::Position;

/// The app-level heartbeat every xws server answers: the client sends
/// [`APP_PING`] and drops [`APP_PONG`] before the app sees it.
pub use xws::client::{APP_PING, APP_PONG};
