//! An SSE handler that publishes across instances has no broker on Vercel.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::SSE.and(Capability::PubSubAcrossInstances);
}

xws::assert_deployable!(xws::caps::Vercel, App);

fn main() {}
