//! What each deployment target can do, and the compile-time check that a
//! handler only asks for what its target gives.
//!
//! # The table
//! One [`Column`] per [`DeploymentTarget`] (a file each under `targets/`),
//! one [`Cell`] per [`Capability`]: a [`Support`] level, a note, a source
//! and, once a conformance scenario proves it, the scenario's name. The
//! table states what the *platform* allows; [`AdapterStatus`] and
//! `proved_by` state what xws delivers today. `adapters-matrix.md` at the
//! repository root is generated from it by `cargo xtask matrix`, and
//! `cargo xtask matrix --check` (part of `cargo xtask test`) fails when the
//! file is stale.
//!
//! # The compile-time check
//! A handler states what it needs in [`Handler::NEEDS`](crate::Handler::NEEDS)
//! (default: [`Needs::WEBSOCKET`]); a [`Platform`] type names its column.
//! [`assert_deployable!`](crate::assert_deployable) and [`Deployment::new`]
//! evaluate [`check`] in const context, so a mismatch is a compile error:
//!
//! ```text
//! error[E0080]: evaluation panicked: xws: WebSocket is not supported on Vercel functions.
//!               Alternative: use SSE, a Cloudflare Durable Object, or AWS API Gateway WebSocket.
//! ```
//!
//! # Choosing the target with a cargo feature
//! The choice belongs to the application crate, not to `xws`: if `xws` had
//! one feature per target, cargo's feature unification would turn them all
//! on in a workspace and `cargo build --workspace` could not pick one. The
//! application maps its own features to a platform type:
//!
//! ```
//! # struct Chat;
//! # impl xws::Handler for Chat { type Context = (); }
//! #[cfg(feature = "target-vercel")]
//! type Target = xws::caps::Vercel;
//! #[cfg(not(feature = "target-vercel"))]
//! type Target = xws::caps::Tokio;
//!
//! xws::assert_deployable!(Target, Chat);
//! ```

mod deployment;
mod needs;
mod platform;
mod table;
pub mod targets;

pub use deployment::{Deployment, Transport};
pub use needs::Needs;
pub use platform::{
    AwsApiGateway, AwsLambdaUrl, CloudflareDurableObject, CloudflareWorker, Netlify, Platform,
    Tokio, Vercel, check, check_needs,
};
pub use table::{AdapterStatus, Capability, Cell, Column, DeploymentTarget, Support};
