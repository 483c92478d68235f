//! The worker function, invoked asynchronously with one `Import`: runs it
//! to the end, publishing its progress to the user's WebSocket connections
//! and to the function URL's streams (through Redis).

use import_progress::Import;
use import_progress_aws::{Streams, run_import, step_delay};
use std::sync::Arc;
use xws_aws::lambda_runtime::{self, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    xws_aws::function::init_tracing();
    let aws = Arc::new(xws_aws::Aws::from_env().await?);
    let hub = aws.hub()?;
    let streams = Streams::from_env().await?;
    let step = step_delay()?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Import>| {
        let (hub, streams) = (hub.clone(), streams.clone());
        async move { run_import(&hub, &streams, step, event.payload).await }
    }))
    .await
}
