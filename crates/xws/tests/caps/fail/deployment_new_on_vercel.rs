//! The adapters' entry point checks too: `Deployment::new` fails the build.

use xws::caps::{Deployment, Vercel};

struct Chat;

impl xws::Handler for Chat {
    type Context = ();
}

fn main() {
    let _ = Deployment::<Vercel, _>::new(Chat);
}
