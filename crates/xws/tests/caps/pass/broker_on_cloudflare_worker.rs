//! On a plain Worker, topics go through a Durable Object per topic
//! (xws-cloudflare's TopicBroker): an SSE handler whose publications come
//! from other requests builds.

use xws::caps::{Capability, Needs};

struct App;

impl xws::Handler for App {
    type Context = ();
    const NEEDS: Needs = Needs::SSE
        .and(Capability::PubSubAcrossInstances)
        .and(Capability::PublishFromOutside);
}

xws::assert_deployable!(xws::caps::CloudflareWorker, App);

fn main() {}
