//! Import progress on AWS Lambda.
//!
//! Four functions built from this crate (`cargo lambda build --profile lambda`):
//!
//! - `import-progress-ws` (`src/bin/import-progress-ws.rs`): the WebSocket API's function, the portable
//!   [`import_progress::ImportHandler`] behind [`xws_aws::Xws`].
//! - `import-progress-http` (`src/bin/import-progress-http.rs`): the page, and `POST /api/start-import`,
//!   which validates the request and invokes `worker` asynchronously with
//!   the [`import_progress::Import`] ([`Routes`]).
//! - `import-progress-worker` (`src/bin/import-progress-worker.rs`): runs one import to the end, publishing
//!   its progress to the user's topic, on the WebSocket API and through
//!   Redis to the function URL's streams ([`run_import`]).
//! - `import-progress-sse` (`src/bin/import-progress-sse.rs`): behind a
//!   function URL in response-streaming mode, the SSE-only
//!   [`import_progress::ImportStream`] behind [`xws_aws::function_url::run_with`]:
//!   the token's user's latest import event, then every event the worker
//!   publishes, resuming after `Last-Event-ID`.
//!
//! `template.yaml` deploys them; `cargo xtask dev aws import-progress` runs
//! them locally behind the `xws-aws-local` emulator, which also takes the
//! asynchronous invocation.

mod routes;
mod worker;

pub use routes::Routes;
pub use worker::{Streams, Worker, run_import, step_delay};
