//! # xws-tokio: xws handlers on Tokio
//!
//! A WebSocket and Server-Sent Events server for any [`xws::Handler`], built
//! on hyper 1 and its own sans-IO RFC 6455 layer (no buffer per idle
//! connection). Run it standalone with [`serve`], or
//! mount its services on routes of an existing axum app.
//!
//! ```no_run
//! use xws::{Handler, HookResult, Message, Peer};
//! use xws_tokio::Xws;
//!
//! struct Echo;
//!
//! impl Handler for Echo {
//!     type Context = ();
//!     async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
//!         peer.send(message)?;
//!         Ok(())
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let xws = Xws::new(Echo);
//! let listener = xws_tokio::listen("127.0.0.1:3000".parse().unwrap())?;
//! xws_tokio::serve(listener, xws, std::future::pending()).await
//! # }
//! ```
//!
//! Mounted in axum, next to ordinary routes that publish through the
//! [`xws::Hub`]:
//!
//! ```no_run
//! # use xws::Handler;
//! # #[derive(Default)] struct Chat;
//! # impl Handler for Chat { type Context = (); }
//! let xws = xws_tokio::Xws::new(Chat);
//! let hub = xws.hub();
//! let app: axum::Router = axum::Router::new()
//!     .route_service("/api/ws", xws.ws())
//!     .route_service("/api/sse", xws.sse())
//!     .route("/api/hello", axum::routing::post(move || {
//!         let hub = hub.clone();
//!         async move { hub.broadcast("hello").await.map(|d| d.delivered.to_string()).unwrap_or_default() }
//!     }));
//! ```
//!
//! Serve such an app with [`serve_app`] rather than `axum::serve`: it
//! applies the same header-read and write timeouts as [`serve`], counts
//! connections against the limits from accept, and gives every request the
//! client's address (see [`Config`] and `SECURITY.md`).
//!
//! ## Clients that survive real networks
//! [`client_js`] serves `xws.js`, a browser client that reconnects with
//! backoff, queues what is sent while disconnected, detects dead
//! connections with the app-level heartbeat ([`APP_PING`], answered by
//! the server without calling the handler), and falls back to the
//! SSE + POST transport of [`Xws::fallback`] when WebSockets are blocked.
//! A handler cannot tell which transport a peer uses.
//!
//! ## How a connection works
//! Each connection is one Tokio task that reads frames, runs the handler's
//! hooks one at a time (so a peer's messages are handled in order), and
//! writes what is queued for the peer. Everything sent to a peer goes
//! through its bounded queue ([`xws::Limits::send_queue`]); a published
//! message is encoded once and shared by every subscriber.
//!
//! ## Compression
//! [`Config::permessage_deflate`] (off by default) negotiates
//! permessage-deflate (RFC 7692) with clients that offer it, browsers
//! included. Every message is compressed on its own (the server answers
//! `server_no_context_takeover` and `client_no_context_takeover`), so a
//! publication is compressed once and the same frame goes to every
//! subscriber that agreed to the same window, and no connection holds a
//! compressor. Autobahn's 12.* and 13.* cases run in `cargo xtask test`.
//!
//! ```no_run
//! # use xws::Handler;
//! # struct Chat;
//! # impl Handler for Chat { type Context = (); }
//! let config = xws_tokio::Config {
//!     permessage_deflate: true,
//!     ..Default::default()
//! };
//! let xws = xws_tokio::Xws::with_config(Chat, config);
//! # let _ = xws;
//! ```

mod accept;
mod admin;
mod admission;
mod app;
mod body;
mod client_ip;
mod client_js;
mod config;
mod connection;
/// The inflating reader under tungstenite, for `xws-bench`'s load client
/// (which offers permessage-deflate); not part of the API.
#[doc(hidden)]
pub mod deflate;
mod dispatch;
mod fallback;
mod gate;
mod handshake;
mod head;
mod link;
#[cfg(feature = "prometheus")]
pub mod metrics;
mod outbox;
mod registry;
mod replay;
mod serve;
mod service;
mod sse;
mod streams;
mod transport;
mod wire;
mod write_deadline;
mod ws;

pub use admin::TopicCount;
pub use app::Xws;
pub use body::Body;
pub use client_ip::{InvalidProxy, TrustedProxies};
pub use client_js::{CLIENT_JS, ClientJsService, client_js};
pub use config::Config;
pub use fallback::FallbackService;
#[cfg(feature = "axum")]
pub use serve::serve_app;
pub use serve::{RemoteAddr, listen, listen_on_port_env, serve};
pub use sse::SseService;
pub use ws::WsService;
pub use xws::OriginPolicy;
pub use xws::client::{APP_PING, APP_PONG};
