//! API Gateway closes incoming binary frames with 1003: a handler that needs
//! them does not compile for xws-aws.

use std::sync::Arc;
use xws::caps::{Capability, Needs};
use xws_aws::{Aws, Xws};

struct Files;

impl xws::Handler for Files {
    type Context = ();
    const NEEDS: Needs = Needs::WEBSOCKET.and(Capability::Binary);
}

fn main() {
    let aws: Option<Arc<Aws>> = None;
    if let Some(aws) = aws {
        let _ = Xws::new(Files, aws);
    }
}
