//! A scheduled (EventBridge) function publishing through the same hub:
//! every peer gets `{"type":"broadcast","event":"tick","data":{"time":…}}`.

use std::sync::Arc;
use xws_aws::lambda_runtime::{self, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    chat_aws::init_tracing();
    let aws = Arc::new(xws_aws::Aws::from_env().await?);
    let hub = aws.hub()?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let hub = hub.clone();
        async move {
            let reply = chat_aws::tick(&hub, &event.payload).await?;
            Ok::<_, lambda_runtime::Error>(reply)
        }
    }))
    .await
}
