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
//! The pieces:
//! - [`Gateway`]: used by the Worker's `fetch` (WebSocket upgrade, SSE) and
//!   to get a [`xws::Hub`] in `fetch` or `scheduled` handlers.
//! - [`Object`]: the engine a `#[durable_object]` struct delegates to.
//!
//! Apps whose state lives in the object (storage, alarms, one object per
//! user) add routes of their own: the Worker sends them with
//! [`Gateway::forward`]; the object's `fetch` answers them when
//! [`Object::handles`] is false and passes the rest to [`Object::fetch`].
//! Inside the object, [`Object::hub`] publishes to its peers directly (in
//! those routes, in `alarm`, in work started with `wait_until`) and
//! [`Object::storage`] is its transactional storage.
//! - [`Config`]: binding name, [`Namespace`] routing, limits, heartbeat.
//!
//! # Limits
//! The object enforces [`xws::Limits`] as xws-tokio does: a message over
//! `max_message_size` closes its peer with 1009, a peer over its `rate`
//! gets the `error` hook for each refused message and a 1008 close once the
//! refusals pass the tolerance, and an upgrade beyond `max_connections`
//! (every WebSocket the object holds) is answered 503. Rate limiters live
//! in memory: hibernation resets them.
//!
//! # Heartbeats
//! [`Config::auto_response`] (on by default: `ping` → `pong`) has the
//! runtime answer one exact text frame itself: the object is neither woken
//! nor kept awake, and no hook runs. A handler that answers the same text
//! never sees it.
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

mod attachment;
mod client_js;
mod config;
mod delegate;
mod forward;
mod gateway;
mod hub;
mod ids;
mod local_hub;
mod object;
mod plain_worker;
mod query;
mod room;
mod sse;
mod topic_broker;
mod transport;
mod wire;

pub use attachment::MAX_ATTACHMENT_BYTES;
pub use client_js::{CLIENT_JS, client_js};
pub use config::{AutoResponse, Config, Namespace};
pub use gateway::Gateway;
pub use object::{Object, ObjectStats};
pub use plain_worker::{DEFAULT_MAX_DURATION, WorkerRuntime, WorkerStreams, broker_hub};
pub use query::query_param;
pub use topic_broker::{TopicBroker, TopicBrokers};
