//! The worker function, invoked asynchronously with one `Import`: runs it
//! to the end, publishing its progress.

use import_progress::Import;
use std::sync::Arc;
use xws_aws::lambda_runtime::{self, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    xws_aws::function::init_tracing();
    let aws = Arc::new(xws_aws::Aws::from_env().await?);
    let hub = aws.hub()?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Import>| {
        let hub = hub.clone();
        async move { import_progress_aws::run_import(&hub, event.payload).await }
    }))
    .await
}
