//! Import progress on the local AWS stack: moto (DynamoDB), the
//! `import-progress-{ws,http,worker}` functions on the Lambda runtime API of
//! `cargo lambda watch`, the `xws-aws-local` emulator (which takes the
//! asynchronous invocation of the worker). `cargo xtask
//! test-aws import-progress` starts the stack and runs these with the
//! `live` feature; `XWS_AWS_EMULATOR` is the emulator's `host:port`.

use import_progress::scenarios::Endpoints;

fn target() -> Endpoints {
    let emulator = std::env::var("XWS_AWS_EMULATOR")
        .expect("XWS_AWS_EMULATOR: run `cargo xtask test-aws import-progress`");
    Endpoints::at(&format!("http://{emulator}"))
}

import_progress::scenario_tests!(target());
