//! A Lambda function URL has no WebSockets: API Gateway does.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::WEBSOCKET;
}

xws::assert_deployable!(xws::caps::AwsLambdaUrl, App);

fn main() {}
