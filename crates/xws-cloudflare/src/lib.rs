//! # xws on Cloudflare Workers
//!
//! Hosts any [`xws::Handler`] in a Durable Object that uses the WebSocket
//! hibernation API. The Worker entry runs the `upgrade` hook (so rejected
//! requests never reach an object) and forwards accepted ones to the object
//! named by the namespace: the URL path by default, like crossws, or any
//! name the app chooses, so rooms can be sharded over several objects.
//!
//! Each peer's id, typed context and topics live in its socket's serialized
//! attachment, so they survive hibernation; a state over the 16 KiB platform
//! limit is an [`xws::Error::StateTooLarge`], never a silent loss. After the
//! object wakes up, its peer table is rebuilt from the attachments before any
//! event is handled, so `publish` reaches every subscriber.
//!
//! The pieces, named as in `xws-tokio`:
//! - [`Xws`]: the Worker entry, used by the Worker's `fetch` (WebSocket
//!   upgrade, SSE) and to get a [`xws::Hub`] in `fetch` or `scheduled`
//!   handlers.
//! - [`Object`]: the engine a `#[durable_object]` struct delegates to. It
//!   turns the runtime's events into calls on each peer's
//!   [`xws::adapter::Session`], so the hook rules are the same as on every
//!   adapter; its registry keeps a topic index and publishes straight to
//!   the subscribers' sockets.
//! - [`Config`]: binding name, [`Namespace`] routing, limits, heartbeat,
//!   set with `with_*` builders.
//!
//! Apps whose state lives in the object (storage, alarms, one object per
//! user) add routes of their own: the Worker sends them with
//! [`Xws::forward`]; the object's `fetch` answers them when
//! [`Object::handles`] is false and passes the rest to [`Object::fetch`].
//! Inside the object, [`Object::hub`] publishes to its peers directly (in
//! those routes, in `alarm`, in work started with `wait_until`) and
//! [`Object::storage`] is its transactional storage.
//!
//! `Xws::new` and `Object::new` check the handler's
//! [`Handler::NEEDS`](xws::Handler::NEEDS) against
//! [`xws::caps::CloudflareDurableObject`] at compile time.
//!
//! # Limits
//! The session enforces [`xws::Limits`] as on every adapter: a message over
//! `max_message_size` closes its peer with 1009, a peer over its `rate`
//! gets the `error` hook for each refused message and a 1008 close once the
//! refusals pass the tolerance, and an upgrade or SSE stream beyond
//! `max_connections` (every WebSocket and stream the object holds) is
//! answered 503, beyond `max_connections_per_ip` 429, both with
//! `Retry-After`. An SSE stream whose client reads slower than events come
//! is held to `send_queue` events and `send_queue_bytes` in its Worker:
//! past them `slow_consumer` applies (by default the stream ends with a
//! comment, its socket to the object closes with 1013 and its place is
//! freed), as on Tokio. A WebSocket peer that reads slowly is buffered by
//! the runtime: `WebSocket::send` reports no backpressure. Rate limiters live
//! in the object's memory, not in the attachment: storing one would rewrite
//! the attachment on every message, and hibernation (which resets them to
//! a full bucket) only happens after seconds without a message, in which a
//! bucket refills anyway. Protocol pings never reach the object (the
//! runtime answers them), so unlike on Tokio they do not count toward the
//! rate.
//!
//! # Heartbeats
//! [`Config::auto_response`] is on by default with the browser client's
//! heartbeat: [`xws::client::APP_PING`] answered with
//! [`xws::client::APP_PONG`] by the runtime itself, so `xws.js` keeps its
//! connection alive while the object is neither woken nor kept awake, and
//! no hook runs. With another pair the session still answers the app ping
//! without the handler, but each one wakes the object.
//!
//! # Panics
//! A panicking hook does not close its peer with 1011 here, unlike on
//! xws-tokio: `wasm32` Rust aborts on a panic (no unwinding, so nothing can
//! catch it, in Rust or in JavaScript). The Wasm instance traps, the event
//! being handled is lost (with any change to peers or topics not yet
//! stored), no close frame is sent, and worker's shim creates a new Wasm
//! instance for the next event, which rebuilds the object. The runtime
//! keeps the hibernatable sockets, so every peer, the panicking one
//! included, stays connected and is restored from its attachment, as after
//! hibernation (the chat's workerd test
//! `when_a_hook_panics_the_object_is_rebuilt_and_keeps_every_socket` shows
//! it). What lived only in the old instance's memory is gone: rate
//! limiters, and the writers of its SSE streams. The Wasm instance belongs
//! to the isolate, so whatever else the isolate was running starts over
//! too. The trap happens inside the hook's future, so the event's promise
//! never settles: under `wrangler dev` the object then was not evicted
//! (did not hibernate) for minutes. Return an error instead of panicking
//! to close one peer with 1011.
//!
//! On native targets this crate is empty: it exists for `wasm32` only.
#![cfg(target_arch = "wasm32")]

mod admin;
mod admission;
mod attachment;
mod client_js;
mod config;
mod delegate;
mod entry;
mod error;
mod forward;
mod hub;
mod ids;
mod internal_request;
mod object;
mod outgoing;
mod plain_worker;
mod query;
mod registry;
mod relay;
mod sse;
mod streams;
mod topic_broker;
mod topic_history;
mod transport;
mod wire;

pub use admin::{Closed, PeerInfo, TopicCount};
pub use attachment::MAX_ATTACHMENT_BYTES;
pub use client_js::{CLIENT_JS, client_js};
pub use config::{AutoResponse, Config, Namespace};
pub use entry::Xws;
pub use error::RuntimeError;
pub use object::{Object, ObjectStats};
pub use plain_worker::{DEFAULT_MAX_DURATION, WorkerRuntime, WorkerStreams, broker_hub};
pub use query::{declared_length, path_and_query, query_param};
pub use streams::SqlStore;
pub use topic_broker::{TopicBroker, TopicBrokers};
