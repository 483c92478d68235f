//! A chat (WebSocket, topics, publish from an HTTP route) builds for every
//! target that keeps sockets.

use xws::caps::{AwsApiGateway, Capability, CloudflareDurableObject, Deployment, Needs, Tokio};

struct Chat;

impl xws::Handler for Chat {
    type Context = ();
    const NEEDS: Needs = Needs::of(&[
        Capability::WebSocket,
        Capability::PubSubInstance,
        Capability::PubSubAcrossInstances,
        Capability::PublishFromOutside,
        Capability::SendFromOpen,
    ]);
}

xws::assert_deployable!(Tokio, Chat);
xws::assert_deployable!(CloudflareDurableObject, Chat);
xws::assert_deployable!(AwsApiGateway, Chat);

fn main() {
    let _ = Deployment::<Tokio, _>::new(Chat);
}
