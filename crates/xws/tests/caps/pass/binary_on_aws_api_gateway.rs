//! A handler that needs binary messages deploys to API Gateway, which
//! refuses binary frames: the session carries them as binary notices.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::WEBSOCKET.and(Capability::Binary);
}

xws::assert_deployable!(xws::caps::AwsApiGateway, App);

fn main() {}
