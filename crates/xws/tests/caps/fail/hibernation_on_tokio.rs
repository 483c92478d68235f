//! A Tokio server never hibernates: the alternative is named.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::WEBSOCKET.and(Capability::Hibernation);
}

xws::assert_deployable!(xws::caps::Tokio, App);

fn main() {}
