//! The xws dashboard on AWS Lambda.
//!
//! Four functions built from this crate (`cargo lambda build --profile lambda`):
//!
//! - `dashboard-ws` (`src/bin/dashboard-ws.rs`): the WebSocket API's function, the portable
//!   [`dashboard::DashboardHandler`] behind [`xws_aws::Xws`], reading the
//!   latest metrics from DynamoDB ([`DynamoLatest`]) so a peer gets them
//!   on open.
//! - `dashboard-tick` (`src/bin/dashboard-tick.rs`): invoked by an EventBridge schedule; takes
//!   the next sample and publishes it ([`tick`]).
//! - `dashboard-http` (`src/bin/dashboard-http.rs`): the page and its client ([`route`]).
//! - `dashboard-sse` (`src/bin/dashboard-sse.rs`): behind a function URL in response-streaming
//!   mode, the SSE-only [`dashboard::DashboardStream`] behind
//!   [`xws_aws::function_url::run`]: the current metrics first, then every sample the tick
//!   function publishes through Redis (`XWS_REDIS_URL`).
//!
//! `template.yaml` deploys them; `cargo xtask dev aws dashboard` runs them
//! locally behind the `xws-aws-local` emulator, which fires the schedule.

mod latest;
mod routes;
mod schedule;

pub use latest::DynamoLatest;
pub use routes::route;
pub use schedule::{ScheduledEvent, tick};
