//! On Vercel, topics across instances go through a broker (xws-vercel with
//! Redis): an SSE handler that needs them builds.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::SSE
        .and(Capability::PubSubAcrossInstances)
        .and(Capability::PublishFromOutside);
}

xws::assert_deployable!(xws::caps::Vercel, App);

fn main() {}
