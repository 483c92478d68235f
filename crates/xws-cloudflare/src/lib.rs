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
mod room;
mod sse;
mod transport;
mod wire;

pub use attachment::MAX_ATTACHMENT_BYTES;
pub use client_js::{CLIENT_JS, client_js};
pub use config::{AutoResponse, Config, Namespace};
pub use gateway::Gateway;
pub use object::{Object, ObjectStats};
