//! # xws: one real-time API for every runtime
//!
//! `xws` is the portable core of the xws workspace. It defines the handler API
//! (`upgrade`, `open`, `message`, `close`, `error`), the [`Peer`] a handler
//! talks to, topics, the [`Hub`] for publishing from outside a connection,
//! Server-Sent Events, and the limits every adapter enforces.
//!
//! The core is *sans-IO*: it never touches a socket and never needs an async
//! runtime, so it compiles for `wasm32-unknown-unknown` (Cloudflare Workers) as
//! well as for native servers. Adapters (`xws-tokio`, `xws-cloudflare`,
//! `xws-aws`) do the IO for one runtime each and implement the small traits in
//! [`adapter`].
//!
//! [`caps`] holds what each deployment target can do: a handler states what it
//! needs in [`Handler::NEEDS`], and deploying it where a need is missing is a
//! compile error that names the alternative.
//!
//! ```
//! use xws::{Handler, HookResult, Message, Peer};
//!
//! /// Echoes every message back to its sender.
//! struct Echo;
//!
//! impl Handler for Echo {
//!     type Context = ();
//!
//!     async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
//!         peer.send(message)?;
//!         Ok(())
//!     }
//! }
//! ```

pub mod adapter;
pub mod caps;
pub mod client;
mod close;
mod error;
mod handler;
mod hub;
mod limits;
mod maybe_send;
mod message;
pub mod metrics;
mod origin;
mod peer;
mod pending;
mod request;
pub mod sse;
pub mod stream;
mod topic;
mod upgrade;

pub use close::{CloseCode, CloseFrame};
pub use error::{BoxError, Error};
pub use handler::{Handler, HookResult};
pub use hub::{Delivery, Hub};
pub use limits::{Heartbeat, Limits, RateLimit, SlowConsumer};
pub use maybe_send::{BoxFuture, MaybeSend, MaybeSync};
pub use message::{Message, Text};
pub use origin::OriginPolicy;
pub use peer::{ContextMut, ContextRef, Peer, PeerId};
pub use pending::{Pending, PendingFuture};
pub use request::RequestInfo;
pub use topic::Topic;
pub use upgrade::{Accept, Reject, Upgrade};

/// Re-exported so handlers and adapters agree on one `http` version.
pub use http;
