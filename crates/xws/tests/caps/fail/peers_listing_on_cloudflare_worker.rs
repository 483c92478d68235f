//! Listing the peers needs a Durable Object: no plain Worker request sees
//! another request's streams or sockets.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::SSE.and(Capability::PeersListing);
}

xws::assert_deployable!(xws::caps::CloudflareWorker, App);

fn main() {}
