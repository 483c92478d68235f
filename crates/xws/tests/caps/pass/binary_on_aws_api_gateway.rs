//! API Gateway closes incoming binary frames with 1003.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::WEBSOCKET.and(Capability::Binary);
}

xws::assert_deployable!(xws::caps::AwsApiGateway, App);

fn main() {}
