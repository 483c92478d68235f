//! Import progress on AWS Lambda.
//!
//! Three functions built from this crate (`cargo lambda build --profile lambda`):
//!
//! - `import-progress-ws` (`src/bin/import-progress-ws.rs`): the WebSocket API's function, the portable
//!   [`import_progress::ImportHandler`] behind [`xws_aws::Xws`].
//! - `import-progress-http` (`src/bin/import-progress-http.rs`): the page, and `POST /api/start-import`,
//!   which validates the request and invokes `worker` asynchronously with
//!   the [`import_progress::Import`] ([`Routes`]).
//! - `import-progress-worker` (`src/bin/import-progress-worker.rs`): runs one import to the end, publishing
//!   its progress to the user's topic ([`run_import`]).
//!
//! `template.yaml` deploys them; `cargo xtask dev aws import-progress` runs
//! them locally behind the `xws-aws-local` emulator, which also takes the
//! asynchronous invocation.

mod routes;
mod worker;

pub use routes::Routes;
pub use worker::{Worker, run_import};
