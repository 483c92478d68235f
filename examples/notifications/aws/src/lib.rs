//! Notifications on AWS Lambda.
//!
//! Two functions built from this crate (`cargo lambda build --profile lambda`):
//!
//! - `notifications-ws` (`src/bin/notifications-ws.rs`): the WebSocket API's
//!   function, the portable [`notifications::NotificationsHandler`] behind
//!   [`xws_aws::Xws`], over [`DynamoStore`]: a connection gets what its
//!   user missed, and `mark-read` reaches every tab.
//! - `notifications-http` (`src/bin/notifications-http.rs`): the page and
//!   the three routes ([`Routes`]).
//!
//! `template.yaml` deploys them with both tables; `cargo xtask dev aws
//! notifications` runs them locally behind the `xws-aws-local` emulator.

mod routes;
mod store;

pub use routes::Routes;
pub use store::DynamoStore;
