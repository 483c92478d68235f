//! Publishing from an HTTP route needs a Durable Object on Cloudflare.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::WEBSOCKET.and(Capability::PublishFromOutside);
}

xws::assert_deployable!(xws::caps::CloudflareWorker, App);

fn main() {}
