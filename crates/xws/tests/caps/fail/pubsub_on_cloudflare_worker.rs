//! Topics need a Durable Object: a plain Worker cannot reach another request's socket.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::WEBSOCKET.and(Capability::PubSubInstance);
}

xws::assert_deployable!(xws::caps::CloudflareWorker, App);

fn main() {}
