//! The pattern the README shows: the application's own features pick the
//! platform type. With none enabled, the Tokio server is chosen.

#![allow(unexpected_cfgs)] // the feature belongs to the application; this test crate declares none

struct Echo;

impl xws::Handler for Echo {
    type Context = ();
}

#[cfg(feature = "target-cloudflare")]
type Target = xws::caps::CloudflareDurableObject;
#[cfg(not(feature = "target-cloudflare"))]
type Target = xws::caps::Tokio;

xws::assert_deployable!(Target, Echo);

fn main() {
    let deployment = xws::caps::Deployment::<Target, _>::new(Echo);
    assert_eq!(deployment.target(), xws::caps::DeploymentTarget::Tokio);
}
