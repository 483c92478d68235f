//! API Gateway WebSocket APIs carry no SSE: a function URL does.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::SSE;
}

xws::assert_deployable!(xws::caps::AwsApiGateway, App);

fn main() {}
