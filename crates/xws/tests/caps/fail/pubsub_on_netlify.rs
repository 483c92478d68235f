//! An SSE handler that publishes across instances has no broker on Netlify
//! (no xws adapter: Rust functions there cannot stream).

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::SSE.and(Capability::PubSubAcrossInstances);
}

xws::assert_deployable!(xws::caps::Netlify, App);

fn main() {}
