//! Only Durable Objects hibernate sockets: a plain Worker's request runs
//! for as long as its stream.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::SSE.and(Capability::Hibernation);
}

xws::assert_deployable!(xws::caps::CloudflareWorker, App);

fn main() {}
